using System.Globalization;
using Akka.Configuration;

namespace BitTorrentActors.Engine.Hosting;

/// <summary>
/// Reads typed values from a HOCON <see cref="Config"/>, turning a missing key, a value of the wrong type or an
/// out-of-range value into a <see cref="BtaConfigException"/> that names the key.
/// </summary>
internal sealed class ConfigReader
{
    private readonly Config _config;

    public ConfigReader(Config config)
    {
        _config = config;
    }

    public string GetString(string key)
    {
        Require(key);
        try
        {
            return _config.GetString(key) ?? string.Empty;
        }
        catch (Exception ex) when (ex is not BtaConfigException)
        {
            throw new BtaConfigException(key, "expected a string");
        }
    }

    public int GetInt(string key, int min, int max)
    {
        var raw = GetString(key);
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw new BtaConfigException(key, $"expected a whole number, got '{raw}'");
        }
        if (value < min || value > max)
        {
            throw new BtaConfigException(key, $"must be between {min} and {max}, got {value}");
        }
        return value;
    }

    public long GetLong(string key, long min, long max)
    {
        var raw = GetString(key);
        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw new BtaConfigException(key, $"expected a whole number, got '{raw}'");
        }
        if (value < min || value > max)
        {
            throw new BtaConfigException(key, $"must be between {min} and {max}, got {value}");
        }
        return value;
    }

    /// <summary>A byte count with optional units (<c>1M</c>, <c>512KiB</c>, <c>10MB</c>; see <see cref="ByteSizes"/>);
    /// a <paramref name="rate"/> may also end in <c>/s</c>.</summary>
    public long GetByteSize(string key, long min, long max, bool rate = false)
    {
        var raw = GetString(key);
        if (!ByteSizes.TryParse(raw, rate, out var value))
        {
            var example = rate ? "1048576, 512KiB, 1M or 10MB/s" : "16384, 16KiB or 1M";
            throw new BtaConfigException(key, $"expected a {(rate ? "rate" : "size")} in bytes such as {example}, got '{raw}'");
        }
        if (value < min || value > max)
        {
            throw new BtaConfigException(key, $"must be between {min} and {max} bytes, got {value}");
        }
        return value;
    }

    /// <summary>A duration in HOCON units (<c>500ms</c>, <c>10s</c>, <c>5m</c>), within the key's
    /// <see cref="SettingRanges"/> range (always positive).</summary>
    public TimeSpan GetDuration(string key)
    {
        var raw = GetString(key);
        TimeSpan value;
        try
        {
            value = _config.GetTimeSpan(key, null, allowInfinite: false);
        }
        catch (Exception ex) when (ex is not BtaConfigException)
        {
            throw new BtaConfigException(key, $"expected a duration such as 10s or 5m, got '{raw}'");
        }
        if (value <= TimeSpan.Zero)
        {
            throw new BtaConfigException(key, $"must be a positive duration, got '{raw}'");
        }
        var range = SettingRanges.ForDuration(key);
        if (!range.Contains(value))
        {
            throw new BtaConfigException(key, $"must be between {range}, got '{raw}'");
        }
        return value;
    }

    private void Require(string key)
    {
        bool present;
        try
        {
            present = _config.HasPath(key);
        }
        catch (Exception ex) when (ex is not BtaConfigException)
        {
            throw new BtaConfigException(key, "is not a valid setting path");
        }
        if (!present)
        {
            throw new BtaConfigException(key, "is missing (hocon.conf next to the binary holds every default)");
        }
    }
}
