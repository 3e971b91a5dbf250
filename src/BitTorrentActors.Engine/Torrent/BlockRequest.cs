namespace BitTorrentActors.Engine.Torrent;

/// <summary>One block of a piece: the unit the scheduler hands out and the wire's request/piece/cancel name.</summary>
public readonly record struct BlockRequest(int Piece, int Begin, int Length)
{
    public override string ToString() => $"{Piece}:{Begin}+{Length}";
}
