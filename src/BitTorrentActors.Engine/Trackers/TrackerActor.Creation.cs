using System.Security.Cryptography;
using Akka.Actor;
using Akka.Pattern;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

public sealed partial class TrackerActor
{
    /// <param name="transport">Defaults to the session's HTTP(S) and UDP transports (<see cref="TorrentContext.Services"/>).</param>
    public static Props Props(TorrentContext context, IActorRef coordinator, ITrackerTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Props(context.ForTracker(), coordinator, transport);
    }

    /// <param name="transport">Defaults to the session's HTTP(S) and UDP transports (<see cref="TrackerContext.Services"/>).</param>
    public static Props Props(TrackerContext context, IActorRef coordinator, ITrackerTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(coordinator);
        return Akka.Actor.Props.Create(() => new TrackerActor(context, coordinator, transport));
    }

    /// <summary>
    /// The tracker actor under a <see cref="BackoffSupervisor"/>: an unexpected exception restarts it after
    /// tracker.min-backoff .. tracker.max-backoff. Messages to the returned actor are forwarded to the tracker
    /// (sender kept); tracker messages still go to <paramref name="coordinator"/>, not to the supervisor.
    /// </summary>
    public static Props SupervisedProps(TorrentContext context, IActorRef coordinator, ITrackerTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        return SupervisedProps(context.ForTracker(), coordinator, transport);
    }

    /// <inheritdoc cref="SupervisedProps(TorrentContext, IActorRef, ITrackerTransport?)"/>
    public static Props SupervisedProps(TrackerContext context, IActorRef coordinator, ITrackerTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = context.Settings.Tracker;
        // A tracker that then ran this long without failing was healthy: the next crash starts from min again.
        var reset = TimeSpan.FromTicks(Math.Clamp(TimeSpan.FromMinutes(1).Ticks, settings.MinBackoff.Ticks,
            settings.MaxBackoff.Ticks));
        var options = Backoff.OnFailure(
                Props(context, coordinator, transport),
                "tracker",
                settings.MinBackoff,
                settings.MaxBackoff,
                TrackerBackoff.JitterFactor,
                maxNrOfRetries: -1)
            .WithAutoReset(reset);
        return BackoffSupervisor.Props(options);
    }

    /// <summary>
    /// One announce outside any actor (for <c>bta peers</c>): walks the tiers in order and returns the first
    /// answer; when none answers, one failure naming every tracker's reason. The caller may follow with
    /// <paramref name="announceEvent"/> = Stopped.
    /// </summary>
    public static async Task<AnnounceResult> AnnounceOnceAsync(
        TorrentContext context,
        ITrackerTransport transport,
        CancellationToken cancellationToken,
        AnnounceEvent announceEvent = AnnounceEvent.Started)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(transport);
        var tracker = context.ForTracker();
        var request = BuildRequest(tracker, announceEvent, 0, 0, tracker.InitialLeft, trackerId: null);
        var reasons = new List<string>();
        foreach (var url in new TrackerTiers(tracker.AnnounceTiers, Random.Shared).InOrder())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!transport.Supports(url))
            {
                reasons.Add($"{url}: {CompositeTrackerTransport.Unsupported(url)}");
                continue;
            }
            var result = await transport.AnnounceAsync(url, request, cancellationToken).ConfigureAwait(false);
            if (result.Success)
            {
                return result;
            }
            reasons.Add($"{url}: {result.Failure?.Reason}");
        }
        return AnnounceResult.Fail(new TrackerFailure(reasons.Count == 0
            ? "the torrent names no tracker"
            : "no tracker answered (" + string.Join("; ", reasons) + ")"));
    }

    /// <summary>For one-off announces outside a session (<c>bta peers</c>): immutable once drawn.</summary>
    private static readonly uint ProcessKey = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(sizeof(uint)));

    private static AnnounceRequest BuildRequest(
        TrackerContext context, AnnounceEvent announceEvent, long uploaded, long downloaded, long left, string? trackerId) =>
        new(
            context.InfoHash,
            context.LocalPeerId.Span.ToArray(),
            context.ListenPort,
            uploaded,
            downloaded,
            left,
            announceEvent,
            // A stopping client wants no peers; everyone else asks for the configured number.
            announceEvent == AnnounceEvent.Stopped ? 0 : context.Settings.Tracker.NumWant,
            // BEP 7: random per session, it lets a tracker recognise us across IP changes.
            context.Services?.TrackerKey ?? ProcessKey,
            trackerId);
}
