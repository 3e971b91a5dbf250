using Akka.Actor;
using BitTorrentActors.Engine.Storage;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Storage;

/// <summary>The piece being assembled hashes its blocks as they arrive (issue 14), in order, gaps filled later.</summary>
public sealed class PieceAssemblyTests : IDisposable
{
    private const int BlockSize = 16 * 1024;
    private readonly Sha1Pool _hashers = new();

    [Fact]
    public void Blocks_are_hashed_as_the_prefix_grows_and_an_early_block_when_the_gap_before_it_fills()
    {
        var content = Bytes(4 * BlockSize, 3);
        var metainfo = MakeTorrent("t", 4 * BlockSize, [("a.bin", content)]);
        var blocks = Blocks(metainfo, content, 0, BlockSize);
        var assembly = new PieceAssembly(0, 4, _hashers);

        Assert.True(assembly.TryAdd(2, blocks[2], ActorRefs.Nobody));
        Assert.Equal(0, assembly.Hashed);
        Assert.True(assembly.TryAdd(0, blocks[0], ActorRefs.Nobody));
        Assert.Equal(1, assembly.Hashed);
        Assert.True(assembly.TryAdd(1, blocks[1], ActorRefs.Nobody));
        Assert.Equal(3, assembly.Hashed);
        Assert.True(assembly.TryAdd(3, blocks[3], ActorRefs.Nobody));
        Assert.Equal(4, assembly.Hashed);

        Assert.True(assembly.HashMatches(metainfo.GetPieceHash(0)));
        assembly.ReleaseAll();
    }

    [Fact]
    public void A_flipped_byte_fails_the_hash()
    {
        var content = Bytes(3 * BlockSize + 100, 4);
        var metainfo = MakeTorrent("t", 4 * BlockSize, [("a.bin", content)]);
        var blocks = Blocks(metainfo, content, 0, BlockSize);
        blocks[3].Memory.Span[7] ^= 0x80;
        var assembly = new PieceAssembly(0, blocks.Count, _hashers);
        foreach (var i in new[] { 3, 1, 0, 2 })
        {
            assembly.TryAdd(i, blocks[i], ActorRefs.Nobody);
        }

        Assert.False(assembly.HashMatches(metainfo.GetPieceHash(0)));
        assembly.ReleaseAll();
    }

    [Fact]
    public void A_hasher_given_back_half_fed_is_reset_before_the_next_piece_uses_it()
    {
        var content = Bytes(4 * BlockSize, 5);
        var metainfo = MakeTorrent("t", 2 * BlockSize, [("a.bin", content)]);
        var dropped = new PieceAssembly(0, 2, _hashers);
        dropped.TryAdd(0, Blocks(metainfo, content, 0, BlockSize)[0], ActorRefs.Nobody);
        dropped.ReleaseAll();

        var next = new PieceAssembly(1, 2, _hashers);
        var blocks = Blocks(metainfo, content, 1, BlockSize);
        next.TryAdd(0, blocks[0], ActorRefs.Nobody);
        next.TryAdd(1, blocks[1], ActorRefs.Nobody);

        Assert.True(next.HashMatches(metainfo.GetPieceHash(1)));
        next.ReleaseAll();
    }

    [Fact]
    public void A_duplicate_block_is_refused_and_not_hashed_twice()
    {
        var content = Bytes(2 * BlockSize, 6);
        var metainfo = MakeTorrent("t", 2 * BlockSize, [("a.bin", content)]);
        var blocks = Blocks(metainfo, content, 0, BlockSize);
        var again = Blocks(metainfo, content, 0, BlockSize);
        var assembly = new PieceAssembly(0, 2, _hashers);

        Assert.True(assembly.TryAdd(0, blocks[0], ActorRefs.Nobody));
        Assert.False(assembly.TryAdd(0, again[0], ActorRefs.Nobody));
        Assert.True(assembly.TryAdd(1, blocks[1], ActorRefs.Nobody));

        Assert.True(assembly.HashMatches(metainfo.GetPieceHash(0)));
        assembly.ReleaseAll();
        again.ForEach(b => b.Release());
    }

    public void Dispose() => _hashers.Dispose();
}
