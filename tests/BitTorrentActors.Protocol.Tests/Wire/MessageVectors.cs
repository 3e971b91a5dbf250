using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Protocol.Tests.Wire;

/// <summary>Writes one message into a buffer, returning the bytes written.</summary>
internal delegate int WriteMessage(Span<byte> destination);

/// <summary>A hand-computed wire vector with the writer call that produces it and the frame it reads as.</summary>
internal sealed record MessageVector(
    string Name,
    string Hex,
    WriteMessage Write,
    PeerMessageKind Kind,
    uint Index = 0,
    uint Begin = 0,
    uint Length = 0,
    ushort Port = 0,
    byte ExtendedId = 0,
    string PayloadHex = "");

internal static class MessageVectors
{
    /// <summary>The bitfield used by the bitfield vector: 10 pieces, 0, 1 and 9 set.</summary>
    public static Bitfield TenPieces()
    {
        var bitfield = new Bitfield(10);
        bitfield.Set(0);
        bitfield.Set(1);
        bitfield.Set(9);
        return bitfield;
    }

    // Layout of each hex string: length prefix | id | fields, all big-endian.
    public static readonly MessageVector[] All =
    [
        new("keep-alive", "00000000", d => PeerWireWriter.WriteKeepAlive(d), PeerMessageKind.KeepAlive),
        new("choke", "00000001 00", d => PeerWireWriter.WriteChoke(d), PeerMessageKind.Choke),
        new("unchoke", "00000001 01", d => PeerWireWriter.WriteUnchoke(d), PeerMessageKind.Unchoke),
        new("interested", "00000001 02", d => PeerWireWriter.WriteInterested(d), PeerMessageKind.Interested),
        new("not interested", "00000001 03", d => PeerWireWriter.WriteNotInterested(d), PeerMessageKind.NotInterested),
        new("have", "00000005 04 01020304", d => PeerWireWriter.WriteHave(d, 0x01020304), PeerMessageKind.Have, Index: 0x01020304),
        new("bitfield", "00000003 05 C040", d => PeerWireWriter.WriteBitfield(d, TenPieces()), PeerMessageKind.Bitfield, PayloadHex: "C040"),
        new(
            "request",
            "0000000D 06 00000001 00004000 00004000",
            d => PeerWireWriter.WriteRequest(d, 1, 0x4000, 0x4000),
            PeerMessageKind.Request,
            Index: 1,
            Begin: 0x4000,
            Length: 0x4000),
        new(
            "piece",
            "0000000C 07 00000002 00008000 AABBCC",
            d => PeerWireWriter.WritePiece(d, 2, 0x8000, [0xAA, 0xBB, 0xCC]),
            PeerMessageKind.Piece,
            Index: 2,
            Begin: 0x8000,
            Length: 3,
            PayloadHex: "AABBCC"),
        new(
            "cancel",
            "0000000D 08 00000001 00004000 00004000",
            d => PeerWireWriter.WriteCancel(d, 1, 0x4000, 0x4000),
            PeerMessageKind.Cancel,
            Index: 1,
            Begin: 0x4000,
            Length: 0x4000),
        new("port", "00000003 09 1AE1", d => PeerWireWriter.WritePort(d, 6881), PeerMessageKind.Port, Port: 6881),
        new("suggest", "00000005 0D 00000007", d => PeerWireWriter.WriteSuggest(d, 7), PeerMessageKind.Suggest, Index: 7),
        new("have all", "00000001 0E", d => PeerWireWriter.WriteHaveAll(d), PeerMessageKind.HaveAll),
        new("have none", "00000001 0F", d => PeerWireWriter.WriteHaveNone(d), PeerMessageKind.HaveNone),
        new(
            "reject",
            "0000000D 10 00000003 00000000 00004000",
            d => PeerWireWriter.WriteReject(d, 3, 0, 0x4000),
            PeerMessageKind.Reject,
            Index: 3,
            Begin: 0,
            Length: 0x4000),
        new("allowed fast", "00000005 11 0000002A", d => PeerWireWriter.WriteAllowedFast(d, 42), PeerMessageKind.AllowedFast, Index: 42),
        new(
            "extended handshake",
            "00000004 14 00 6465",
            d => PeerWireWriter.WriteExtended(d, 0, "de"u8),
            PeerMessageKind.Extended,
            ExtendedId: 0,
            PayloadHex: "6465"),
        new(
            "extended ut_metadata",
            "00000005 14 03 010203",
            d => PeerWireWriter.WriteExtended(d, 3, [1, 2, 3]),
            PeerMessageKind.Extended,
            ExtendedId: 3,
            PayloadHex: "010203"),
        new("extended empty", "00000002 14 07", d => PeerWireWriter.WriteExtended(d, 7, []), PeerMessageKind.Extended, ExtendedId: 7),
        new(
            "piece with max index",
            "0000000A 07 FFFFFFFF FFFFFFFF 5A",
            d => PeerWireWriter.WritePiece(d, uint.MaxValue, uint.MaxValue, [0x5A]),
            PeerMessageKind.Piece,
            Index: uint.MaxValue,
            Begin: uint.MaxValue,
            Length: 1,
            PayloadHex: "5A"),
    ];

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var vector in All)
        {
            data.Add(vector.Name);
        }

        return data;
    }

    public static MessageVector Get(string name) => All.Single(v => v.Name == name);
}
