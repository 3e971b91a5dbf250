using BitTorrentActors.Engine.Storage;
using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Engine.Tests.TestSupport;

/// <summary>
/// Probes standing in for a TorrentCoordinator's children: each real part is replaced by a forwarding actor, so
/// the coordinator supervises and watches real children while the test reads what they were sent.
/// </summary>
public sealed class ChildProbes
{
    private readonly List<PeerSpawn> _spawned = [];

    public ChildProbes(TestKitBase kit)
    {
        Writer = kit.CreateTestProbe();
        Scheduler = kit.CreateTestProbe();
        Tracker = kit.CreateTestProbe();
        Peers = kit.CreateTestProbe();
    }

    public TestProbe Writer { get; }

    public TestProbe Scheduler { get; }

    public TestProbe Tracker { get; }

    /// <summary>Receives what every peer child was sent.</summary>
    public TestProbe Peers { get; }

    public TorrentParts Parts => new(
        (_, _) => ForwardingActor.Props(Writer.Ref),
        _ => ForwardingActor.Props(Scheduler.Ref),
        (_, _) => ForwardingActor.Props(Tracker.Ref),
        spawn =>
        {
            // Called on the coordinator's thread while the test thread reads Spawned.
            lock (_spawned)
            {
                _spawned.Add(spawn);
            }
            return ForwardingActor.Props(Peers.Ref);
        });

    /// <summary>Every peer child the coordinator made, in order.</summary>
    public IReadOnlyList<PeerSpawn> Spawned
    {
        get
        {
            lock (_spawned)
            {
                return [.. _spawned];
            }
        }
    }
}

/// <summary>Forwards everything to a probe, keeping the original sender; <see cref="Crash"/> makes it throw, and
/// <see cref="FileWriterActor.StopAfterSave"/> stops it after forwarding, as the real writer stops itself.</summary>
public sealed class ForwardingActor : ReceiveActor
{
    public sealed record Crash;

    public ForwardingActor(IActorRef target)
    {
        Receive<Crash>(_ => throw new InvalidOperationException("boom"));
        Receive<FileWriterActor.StopAfterSave>(m =>
        {
            target.Forward(m);
            Context.Stop(Self);
        });
        ReceiveAny(m => target.Forward(m));
    }

    public static Props Props(IActorRef target) => Akka.Actor.Props.Create(() => new ForwardingActor(target));
}
