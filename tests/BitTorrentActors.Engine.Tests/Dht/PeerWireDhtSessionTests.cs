using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using BitTorrentActors.Engine.Tests.Peers;
using BitTorrentActors.Engine.Tests.Session;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Dht;

/// <summary>
/// The session hands its DHT node to the peers of public torrents only: a peer connecting to the session's
/// listener (127.0.0.1) with the DHT bit set gets our handshake with the bit and a PORT naming the DHT's UDP port;
/// for a private torrent (BEP 27) the handshake has no DHT bit.
/// </summary>
public sealed class PeerWireDhtSessionTests : SessionTestKit
{
    [Fact]
    public async Task A_public_torrents_peer_gets_the_dht_bit_and_our_dht_port_and_a_private_ones_does_not()
    {
        using var node = new ScriptedDhtNode(IPAddress.Parse("127.0.26.1"));
        var session = SessionTorrents.Start(this,
            SessionTorrents.Settings($"bta.dht.bootstrap-nodes = \"{node.EndPoint}\""), null, Downloads.Path);
        var (open, openInfo, _) = SessionTorrents.Make(47);
        var secret = TorrentBuilder.Build("secret-47.bin", 16 * 1024, [("secret-47.bin", TestTorrents.Content(40_000, 48))],
            isPrivate: true, singleFile: true);
        var secretHash = TorrentMetainfo.Parse(secret).Metainfo!.InfoHash;
        await SessionTorrents.AddAsync(session, open);
        await SessionTorrents.AddAsync(session, secret);
        // The announce names the TCP listen port; the DHT's UDP port is the same (bta.dht.port = 0).
        var announce = (AnnouncePeerQuery)await node.WaitForAsync(q => q is AnnouncePeerQuery, TimeSpan.FromSeconds(20));
        var port = announce.Port;
        var dhtPort = node.Sources[^1].Port;

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            var peer = Over(tcp);
            await SendHandshakeAsync(peer, openInfo.InfoHash);
            Assert.True((await peer.ReadHandshakeAsync()).SupportsDht);
            var frame = await FirstFrameOfKindAsync(peer, PeerMessageKind.Port);
            Assert.Equal(dhtPort, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(5)));
        }

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            var peer = Over(tcp);
            await SendHandshakeAsync(peer, secretHash);
            Assert.False((await peer.ReadHandshakeAsync()).SupportsDht);
        }
    }

    private static ScriptedPeer Over(TcpClient tcp) =>
        new(new DuplexPipe(PipeReader.Create(tcp.GetStream()), PipeWriter.Create(tcp.GetStream())));

    private static Task SendHandshakeAsync(ScriptedPeer peer, InfoHash infoHash) =>
        peer.SendAsync(Handshake.Length, span => new Handshake(infoHash.ToArray(), peer.Id,
            HandshakeReserved.FastExtension | HandshakeReserved.ExtensionProtocol | HandshakeReserved.Dht).WriteTo(span));

    private static async Task<byte[]> FirstFrameOfKindAsync(ScriptedPeer peer, PeerMessageKind kind)
    {
        for (var i = 0; i < 10; i++)
        {
            var frame = await peer.ReadFrameAsync();
            if (frame.Length > 4 && frame[4] == (byte)kind)
            {
                return frame;
            }
        }
        throw new Xunit.Sdk.XunitException($"no {kind} frame among the first 10");
    }
}
