namespace BitTorrentActors.Engine.Hosting;

/// <summary>
/// A configuration value is missing or out of range. The message names the HOCON key (for example
/// <c>bta.block-size</c>) and the reason, in one line fit for a console.
/// </summary>
public sealed class BtaConfigException : Exception
{
    public BtaConfigException(string key, string reason)
        : base($"{key}: {reason}")
    {
        Key = key;
    }

    /// <summary>The full HOCON path of the offending setting.</summary>
    public string Key { get; }
}
