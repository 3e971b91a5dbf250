using System.Globalization;
using Akka.Actor;
using Akka.Event;
using BitTorrentActors.Protocol.Text;
using BitTorrentActors.Protocol.Trackers;

namespace BitTorrentActors.Engine.Trackers;

/// <summary>Per-tracker backoff and what the coordinator and the log hear about each attempt.</summary>
public sealed partial class TrackerActor
{
    /// <summary>Counts the failure and returns how long the tracker now sits out (exponential, with jitter).</summary>
    private TimeSpan BackOff(string url)
    {
        var failures = (_backoff.TryGetValue(url, out var known) ? known.Failures : 0) + 1;
        var delay = TrackerBackoff.Delay(failures, _settings.MinBackoff, _settings.MaxBackoff, Random.Shared);
        _backoff[url] = (failures, DateTime.UtcNow + delay);
        return delay;
    }

    private TimeSpan UntilFirstRetry(DateTime now)
    {
        var wait = _backoff.Values.Min(b => b.RetryAt) - now;
        // Never a busy loop, even when a retry time has just passed.
        return wait > TimeSpan.FromMilliseconds(10) ? wait : TimeSpan.FromMilliseconds(10);
    }

    /// <summary>One status per attempt, so the console can show every tracker's state (warnings included).</summary>
    private void Report(AnnounceDone done)
    {
        if (done.Outcome.Response is { } r)
        {
            // Transports sanitise what trackers say; again here, for any transport (sanitising is idempotent).
            var message = r.WarningMessage is { Length: > 0 } warning
                ? "warning: " + RemoteText.Sanitize(warning)
                : string.Create(CultureInfo.InvariantCulture, $"{r.Peers.Count} peers");
            _warnings.TryGetValue(done.Url, out var previous);
            if (r.WarningMessage is { Length: > 0 } && !string.Equals(previous, r.WarningMessage, StringComparison.Ordinal))
            {
                _log.Warning("Tracker {Tracker} warns: {Warning}", done.Url, RemoteText.Sanitize(r.WarningMessage));
            }
            _warnings[done.Url] = r.WarningMessage;
            _coordinator.Tell(new TrackerStatus(done.Url, true, message, r.Complete, r.Incomplete));
        }
        else
        {
            _coordinator.Tell(new TrackerStatus(done.Url, false, RemoteText.Sanitize(done.Outcome.Failure?.Reason ?? "no answer"), null, null));
        }
    }
}
