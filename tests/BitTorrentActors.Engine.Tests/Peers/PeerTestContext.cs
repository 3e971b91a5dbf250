using Akka.Configuration;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;
using BitTorrentActors.Protocol.Wire;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>A small real torrent and the repo's settings with timeouts short enough for tests.</summary>
internal static class PeerTestContext
{
    public const int PieceLength = 32 * 1024;

    /// <summary>11 pieces: the bitfield has 2 bytes with 5 spare bits, so size and spare-bit checks both bite.</summary>
    public const int PieceCount = 11;

    /// <summary>Timeouts long enough that nothing fires by accident in a normal test, short enough for a timeout test.</summary>
    public const string DefaultOverlay = """
        bta.timeouts { connect = 2s, handshake = 2s, request = 5s, idle = 10s }
        bta.keep-alive-interval = 4s
        """;

    private static readonly Lazy<TorrentMetainfo> Metainfo = new(() => BuildTorrent(isPrivate: false));
    private static readonly Lazy<TorrentMetainfo> PrivateMetainfo = new(() => BuildTorrent(isPrivate: true));

    public static TorrentContext Create(string overlay = "", PeerId? localId = null) =>
        new(Metainfo.Value, localId ?? PeerId.Generate(), Path.GetTempPath(), Settings(overlay), 0);

    /// <summary>The same content as a private torrent (BEP 27), listening on <paramref name="listenPort"/>.</summary>
    public static TorrentContext CreatePrivate(int listenPort = 0) =>
        new(PrivateMetainfo.Value, PeerId.Generate(), Path.GetTempPath(), Settings(), listenPort);

    public static BtaSettings Settings(string overlay = "")
    {
        var repoDefaults = ConfigurationFactory.ParseString(File.ReadAllText(FindHoconConf()));
        var config = ConfigurationFactory.ParseString(overlay)
            .WithFallback(ConfigurationFactory.ParseString(DefaultOverlay))
            .WithFallback(repoDefaults);
        return BtaSettings.FromConfig(config);
    }

    private static TorrentMetainfo BuildTorrent(bool isPrivate)
    {
        var content = new byte[(PieceCount - 1) * PieceLength + 1000];
        new Random(7).NextBytes(content);
        var bytes = TorrentBuilder.Build("peer-test.bin", PieceLength, [("peer-test.bin", content)], isPrivate: isPrivate, singleFile: true);
        var parsed = TorrentMetainfo.Parse(bytes);
        return parsed.Success ? parsed.Metainfo : throw new InvalidOperationException(parsed.Error);
    }

    private static string FindHoconConf()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "hocon.conf");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("hocon.conf not found above " + AppContext.BaseDirectory);
    }
}
