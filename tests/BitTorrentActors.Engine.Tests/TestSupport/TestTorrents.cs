using Akka.Configuration;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.TestSupport;

/// <summary>Settings and torrents for engine tests: the shipped hocon.conf (copied next to the test binary)
/// with test overrides on top, and torrents built in memory from deterministic content.</summary>
public static class TestTorrents
{
    /// <summary>What every test configuration changes in the shipped file: the DHT never bootstraps from the
    /// public routers (a test names its own loopback nodes; loopback-only refuses the names anyway).</summary>
    public const string TestDefaults = "bta.dht.bootstrap-nodes = \"\"";

    public static Config LoadConfig(string overrides = "") =>
        ConfigurationFactory.ParseString(overrides)
            .WithFallback(ConfigurationFactory.ParseString(TestDefaults))
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon.conf"))));

    public static BtaSettings Settings(string overrides = "") => BtaSettings.FromConfig(LoadConfig(overrides));

    public static byte[] Content(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static TorrentMetainfo Metainfo(int pieceLength, params (string Path, byte[] Content)[] files) =>
        Metainfo(pieceLength, announce: null, files);

    /// <summary>A torrent named "test" (single-file when given one file); <paramref name="announce"/> adds a tracker.</summary>
    public static TorrentMetainfo Metainfo(int pieceLength, string? announce, params (string Path, byte[] Content)[] files)
    {
        var result = TorrentMetainfo.Parse(Bytes(pieceLength, announce, files));
        return result.Metainfo ?? throw new InvalidOperationException(result.Error);
    }

    /// <summary>The .torrent file of <see cref="Metainfo(int, string?, ValueTuple{string, byte[]}[])"/>, named
    /// <paramref name="name"/> (a multi-file torrent's folder).</summary>
    public static byte[] Bytes(int pieceLength, string? announce, (string Path, byte[] Content)[] files, string name = "test") =>
        TorrentBuilder.Build(name, pieceLength, files,
            announceTiers: announce is null ? null : [[announce]], singleFile: files.Length == 1);

    public static TorrentContext Context(TorrentMetainfo metainfo, string directory, BtaSettings? settings = null, int listenPort = 6881) =>
        new(metainfo, PeerId.Generate(), directory, settings ?? Settings(), listenPort);
}
