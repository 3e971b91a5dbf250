using System.IO.Pipelines;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;
using Xunit.Abstractions;

namespace BitTorrentActors.Engine.Tests.Peers;

public sealed class PeerActorHandshakeTests(ITestOutputHelper output) : PeerActorTestBase(output)
{
    [Fact]
    public async Task Our_handshake_carries_the_info_hash_our_id_and_the_fast_and_extension_bits()
    {
        var probes = NewProbes();
        var (_, peer) = StartOverPipes(probes);

        var ours = await peer.ReadHandshakeAsync();

        Assert.True(ours.InfoHash.SequenceEqual(Context.InfoHash.ToArray()));
        Assert.Equal(Context.LocalPeerId, ours.PeerId);
        Assert.Equal(HandshakeReserved.FastExtension | HandshakeReserved.ExtensionProtocol, ours.Reserved);
    }

    [Fact]
    public async Task A_correct_handshake_reports_Connected_and_with_fast_sends_have_none()
    {
        var probes = NewProbes();
        var (actor, peer) = StartOverPipes(probes);
        await peer.ReadHandshakeAsync();

        await peer.SendHandshakeAsync(Context.InfoHash, fast: true);

        var connected = await probes.Coordinator.ExpectMsgAsync<PeerActor.Connected>();
        Assert.Equal(actor, connected.Peer);
        Assert.Equal(Remote, connected.EndPoint);
        Assert.Equal(peer.Id, connected.RemoteId);
        Assert.Equal(Frames.Build(5, b => PeerWireWriter.WriteHaveNone(b)), await peer.ReadFrameAsync());
    }

    [Fact]
    public async Task A_wrong_info_hash_stops_the_actor_and_reports_Misbehaved()
    {
        var probes = NewProbes();
        var (actor, peer) = StartOverPipes(probes);
        await peer.ReadHandshakeAsync();

        await peer.SendHandshakeAsync(new InfoHash(new byte[20]));

        var misbehaved = await probes.Coordinator.ExpectMsgAsync<PeerActor.Misbehaved>();
        Assert.Equal(Remote, misbehaved.EndPoint);
        Assert.Contains("info-hash", misbehaved.Reason);
        await ExpectTerminatedAsync(actor);
        Assert.True(await peer.IsClosedAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Our_own_peer_id_stops_the_actor()
    {
        var probes = NewProbes();
        var (actor, peer) = StartOverPipes(probes);
        await peer.ReadHandshakeAsync();

        await peer.SendHandshakeAsync(Context.InfoHash, id: Context.LocalPeerId);

        Assert.Contains("own peer id", (await probes.Coordinator.ExpectMsgAsync<PeerActor.Misbehaved>()).Reason);
        await ExpectTerminatedAsync(actor);
    }

    [Fact]
    public async Task Garbage_instead_of_a_handshake_stops_the_actor()
    {
        var probes = NewProbes();
        var (actor, peer) = StartOverPipes(probes);

        await peer.SendRawAsync("GET / HTTP/1.1\r\n"u8.ToArray());

        await probes.Coordinator.ExpectMsgAsync<PeerActor.Misbehaved>();
        await ExpectTerminatedAsync(actor);
    }

    [Fact]
    public async Task No_handshake_within_the_timeout_stops_the_actor()
    {
        var probes = NewProbes();
        var (actor, _) = StartOverPipes(probes, "bta.timeouts.handshake = 300ms");

        await ExpectTerminatedAsync(actor, TimeSpan.FromSeconds(3));
        await probes.Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task A_dialer_that_never_connects_is_given_up_after_the_connect_timeout()
    {
        var probes = NewProbes();
        var context = PeerTestContext.Create("bta.timeouts.connect = 300ms");
        var never = new TaskCompletionSource<IDuplexPipe>();
        var actor = Sys.ActorOf(PeerActor.Props(context, Remote, probes.Coordinator, probes.Scheduler, probes.Writer, (_, _) => never.Task));
        Watch(actor);

        await ExpectTerminatedAsync(actor, TimeSpan.FromSeconds(3));
    }
}
