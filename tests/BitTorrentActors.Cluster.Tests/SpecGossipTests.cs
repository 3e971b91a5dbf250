using Akka.Actor;
using Akka.Configuration;
using Akka.DistributedData;
using BitTorrentActors.Engine.Cluster;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Protocol.Metainfo;
using ClusterExtension = Akka.Cluster.Cluster;
using MemberStatus = Akka.Cluster.MemberStatus;

namespace BitTorrentActors.Cluster.Tests;

/// <summary>
/// A node that joins after the torrents were added gets every torrent's spec by Distributed Data's gossip, however
/// large the specs are together. Akka.NET's replicator puts up to <c>max-delta-elements</c> keys in one gossip
/// message whatever their size; at its default (500) a node joining a cluster whose specs took more than one frame
/// together got none of them (each gossip to it was dropped as oversized), so a torrent whose node died next was
/// gone. Two actor systems in this process with the daemon's cluster configuration, on 127.0.0.1.
/// </summary>
public sealed class SpecGossipTests() : Akka.TestKit.Xunit2.TestKit(ClusterSerializerSetup.Create(NodeConfig()), nameof(SpecGossipTests))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Gossip carries one spec per tick of <c>gossip-interval</c>; four specs need a few ticks.</summary>
    private static readonly TimeSpan GossipBound = TimeSpan.FromSeconds(60);

    /// <summary>The second node leaves the cluster as it stops (coordinated shutdown's phases, each bounded by
    /// Akka): beside the three-node test on a loaded CI machine, that took over 10 s once.</summary>
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(60);

    private static Config NodeConfig() => ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            """)
        .WithFallback(TorrentClusterHosting.ClusterConfig(TestTorrents.Settings()));

    [Fact]
    public async Task A_node_that_joins_later_gets_specs_larger_together_than_one_message()
    {
        var a = ClusterExtension.Get(Sys);
        a.Join(a.SelfAddress);
        await AwaitConditionAsync(() => Task.FromResult(a.SelfMember.Status == MemberStatus.Up), Wait);

        // Four 9 MB .torrent files (torrents with many pieces or files), 36 MB together: more than the frame
        // (TorrentClusterHosting.MaximumFrameBytes, about 30 MB) holds even after the replicator's gzip, which takes
        // the base64 back to about the size of the random SHA-1 bytes. (Three, 27 MB, went through in one message.)
        var specs = Enumerable.Range(1, 4).Select(i => new TorrentSpec(
            new InfoHash([.. Enumerable.Range(0, 20).Select(b => (byte)(i * 31 + b))]), TestTorrents.Content(9_000_000, i), null, false)).ToList();
        Assert.True(specs.Sum(s => (long)s.Metainfo!.Length) > TorrentClusterHosting.MaximumFrameBytes);
        var writer = DistributedData.Get(Sys).Replicator;
        foreach (var spec in specs)
        {
            var written = await writer.Ask<IUpdateResponse>(Dsl.Update(TorrentSpec.KeyOf(spec.InfoHash),
                new LWWRegister<TorrentSpec>(a.SelfUniqueAddress, spec), WriteLocal.Instance, r => r.WithValue(a.SelfUniqueAddress, spec)), Wait);
            Assert.IsType<UpdateSuccess>(written);
        }

        var b = ActorSystem.Create(Sys.Name, ClusterSerializerSetup.Create(NodeConfig()));
        try
        {
            // The replicator first (it brings its serializer), as the daemon starts it with the shard region.
            var reader = DistributedData.Get(b).Replicator;
            ClusterExtension.Get(b).Join(a.SelfAddress);
            await AwaitConditionAsync(() => Task.FromResult(a.State.Members.Count(m => m.Status == MemberStatus.Up) == 2), Wait);

            // Only gossip brings them: nothing wrote to or read from b.
            var missing = specs.ToList();
            var deadline = DateTime.UtcNow + GossipBound;
            while (missing.Count > 0 && DateTime.UtcNow < deadline)
            {
                foreach (var spec in missing.ToList())
                {
                    if (await HoldsAsync(reader, spec))
                    {
                        missing.Remove(spec);
                    }
                }
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }
            Assert.True(missing.Count == 0,
                $"{missing.Count} of {specs.Count} specs did not reach the node that joined within {GossipBound.TotalSeconds} s");
        }
        finally
        {
            await b.Terminate().WaitAsync(StopBound);
        }
    }

    /// <summary>Whether the replicator's local copy holds <paramref name="spec"/>. A late answer counts as no: without
    /// the fix, re-serializing 36 MB of gossip every tick starved the nodes until they marked each other unreachable.</summary>
    private static async Task<bool> HoldsAsync(IActorRef replicator, TorrentSpec spec)
    {
        var key = TorrentSpec.KeyOf(spec.InfoHash);
        try
        {
            return await replicator.Ask<IGetResponse>(Dsl.Get(key, ReadLocal.Instance), Wait) is GetSuccess found
                && found.Get(key).Value.Metainfo.AsSpan().SequenceEqual(spec.Metainfo);
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }
}
