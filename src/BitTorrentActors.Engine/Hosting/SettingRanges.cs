using System.Globalization;
using System.Text.RegularExpressions;

namespace BitTorrentActors.Engine.Hosting;

/// <summary>
/// The range every duration setting must fall in. An unbounded duration is a hang waiting to happen
/// (<c>bta.timeouts.connect = 100000d</c> passed validation, then no peer ever started). The lower bounds stay
/// low because tests shorten timers to milliseconds; the upper bounds are far past any useful value. A duration
/// not listed here (a section added later) gets <see cref="Default"/>.
/// </summary>
internal static class SettingRanges
{
    public static readonly DurationRange Default = new(TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(7));

    private static readonly DurationRange Short = new(TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(5));
    private static readonly DurationRange Medium = new(TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
    private static readonly DurationRange Long = new(TimeSpan.FromMilliseconds(10), TimeSpan.FromDays(1));

    private static readonly Dictionary<string, DurationRange> Durations = new(StringComparer.Ordinal)
    {
        ["bta.timeouts.connect"] = Short,
        ["bta.timeouts.handshake"] = Short,
        ["bta.timeouts.request"] = Medium,
        ["bta.timeouts.idle"] = Medium,
        ["bta.keep-alive-interval"] = Medium,
        ["bta.peer-retry.min-backoff"] = Medium,
        ["bta.peer-retry.max-backoff"] = Long,
        ["bta.tracker.min-backoff"] = Medium,
        ["bta.tracker.max-backoff"] = Long,
        ["bta.tracker.timeout"] = Short,
        // 15 s * 2^8 is already an hour between the last two sends.
        ["bta.tracker.udp-base-timeout"] = Short,
        ["bta.resume.save-interval"] = Long,
        ["bta.upload.optimistic-unchoke-interval"] = Medium,
        ["bta.upload.rechoke-interval"] = Medium,
        ["bta.progress-interval"] = Medium,
        ["bta.download.stall-warning"] = Medium,
        ["bta.pex.interval"] = Medium,
        // Tests announce every few seconds; a day is far past any useful value (libtorrent: 15 minutes).
        ["bta.dht.announce-interval"] = Long,
    };

    public static DurationRange ForDuration(string key) => Durations.GetValueOrDefault(key, Default);

    /// <summary>Short level names users type (as aria2c and most tools take them), any case.</summary>
    public static Serilog.Events.LogEventLevel? LogLevelAlias(string text) => text.Trim().ToLowerInvariant() switch
    {
        "trace" or "vrb" => Serilog.Events.LogEventLevel.Verbose,
        "dbg" => Serilog.Events.LogEventLevel.Debug,
        "info" or "inf" or "notice" => Serilog.Events.LogEventLevel.Information,
        "warn" or "wrn" => Serilog.Events.LogEventLevel.Warning,
        "err" or "eror" => Serilog.Events.LogEventLevel.Error,
        "ftl" or "crit" or "critical" => Serilog.Events.LogEventLevel.Fatal,
        _ => null,
    };
}

internal sealed record DurationRange(TimeSpan Min, TimeSpan Max)
{
    public bool Contains(TimeSpan value) => value >= Min && value <= Max;

    public override string ToString() => $"{Format(Min)} and {Format(Max)}";

    /// <summary>The largest HOCON unit that states the value exactly (10ms, 5m, 1h, 7d).</summary>
    private static string Format(TimeSpan value) => value switch
    {
        _ when value.Ticks % TimeSpan.TicksPerDay == 0 => $"{value.Ticks / TimeSpan.TicksPerDay}d",
        _ when value.Ticks % TimeSpan.TicksPerHour == 0 => $"{value.Ticks / TimeSpan.TicksPerHour}h",
        _ when value.Ticks % TimeSpan.TicksPerMinute == 0 => $"{value.Ticks / TimeSpan.TicksPerMinute}m",
        _ when value.Ticks % TimeSpan.TicksPerSecond == 0 => $"{value.Ticks / TimeSpan.TicksPerSecond}s",
        _ => $"{value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms",
    };
}

/// <summary>
/// Byte sizes and rates with units, as HOCON's size format and aria2c read them: a bare number is bytes;
/// <c>K</c>, <c>Ki</c>, <c>KiB</c> (and M, G, T) are powers of 1024; <c>kB</c>, <c>MB</c>, <c>GB</c>, <c>TB</c> are
/// powers of 1000; a rate may end in <c>/s</c>. Letters are case-insensitive except that a trailing B after a
/// bare prefix (<c>MB</c>) means decimal. Fractions are allowed (<c>1.5M</c>) and rounded down to whole bytes.
/// </summary>
internal static partial class ByteSizes
{
    public static bool TryParse(string text, bool rate, out long bytes)
    {
        bytes = 0;
        var match = SizePattern().Match(text);
        if (!match.Success || (match.Groups["rate"].Success && !rate))
        {
            return false;
        }
        if (!decimal.TryParse(match.Groups["number"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture,
                out var number))
        {
            return false;
        }
        if (Multiplier(match.Groups["unit"].Value) is not { } multiplier)
        {
            return false;
        }
        try
        {
            bytes = (long)decimal.Floor(number * multiplier);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    private static decimal? Multiplier(string unit)
    {
        var u = unit.ToLowerInvariant();
        if (u is "" or "b" or "byte" or "bytes")
        {
            return 1;
        }
        var power = "kmgt".IndexOf(u[0], StringComparison.Ordinal) + 1;
        if (power == 0)
        {
            return null;
        }
        var rest = u[1..];
        decimal? scale = rest switch
        {
            "" or "i" or "ib" => 1024,
            "b" => 1000,
            _ => null,
        };
        if (scale is null)
        {
            return null;
        }
        var multiplier = 1m;
        for (var i = 0; i < power; i++)
        {
            multiplier *= scale.Value;
        }
        return multiplier;
    }

    [GeneratedRegex(@"^\s*(?<number>\d+(\.\d+)?)\s*(?<unit>[A-Za-z]*)\s*(?<rate>/\s*s)?\s*$")]
    private static partial Regex SizePattern();
}
