using System.Buffers;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Protocol.Tests.Wire.WireTestData;

namespace BitTorrentActors.Protocol.Tests.Wire;

/// <summary>Shared checks for reader tests; every failing path must leave the buffer untouched.</summary>
internal static class ReaderAssert
{
    internal static PeerWireReadStatus Read(PeerWireReader reader, string hex, out PeerFrame frame, out PeerWireError error)
    {
        var buffer = new ReadOnlySequence<byte>(Hex(hex));
        return reader.TryRead(ref buffer, out frame, out error);
    }

    internal static PeerWireError AssertProtocolError(PeerWireReader reader, string hex, PeerWireErrorKind kind)
    {
        var buffer = new ReadOnlySequence<byte>(Hex(hex));
        var original = buffer;

        Assert.Equal(PeerWireReadStatus.ProtocolError, reader.TryRead(ref buffer, out _, out var error));
        Assert.Equal(kind, error.Kind);
        Assert.False(string.IsNullOrEmpty(error.Reason));
        Assert.Equal(original, buffer);
        return error;
    }

    internal static void AssertNeedMoreData(PeerWireReader reader, string hex)
    {
        var buffer = new ReadOnlySequence<byte>(Hex(hex));
        var original = buffer;

        Assert.Equal(PeerWireReadStatus.NeedMoreData, reader.TryRead(ref buffer, out _, out var error));
        Assert.Equal(PeerWireErrorKind.None, error.Kind);
        Assert.Equal(original, buffer);
    }
}
