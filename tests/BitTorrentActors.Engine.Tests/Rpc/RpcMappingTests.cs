using System.Buffers;
using System.Text;
using System.Text.Json;
using BitTorrentActors.Api.Rpc;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Torrent;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>The JSON mapping of Transmission's RPC, without HTTP or actors: field values, units, id selection,
/// file changes, session-set parsing and the Host/auth rules.</summary>
public sealed class RpcMappingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 1, 0, 0, TimeSpan.Zero);
    private static readonly InfoHash Hash = InfoHash.Compute("d4:name1:xe"u8);

    internal static TorrentStatus Status(
        int id = 1, TorrentActivity activity = TorrentActivity.Downloading, long wanted = 1000, long wantedVerified = 300,
        long rate = 50, long downloaded = 400, long uploaded = 100, string? error = null, InfoHash? hash = null,
        DateTimeOffset? activityAt = null, double? seedRatio = null, long downloadLimit = 0) =>
        new(hash ?? Hash, id, "name", "/dl", activity, error, TotalSize: 1200, PieceCount: 4, PieceSize: 300,
            VerifiedPieces: 1, VerifiedBytes: 300, wanted, wantedVerified, rate, UploadRate: 7, downloaded, uploaded,
            ConnectedPeers: 2, PeersSendingToUs: 1, PeersGettingFromUs: 1, QueuePosition: 0, AddedAt: Now.AddHours(-1),
            DoneAt: null, ActivityAt: activityAt, IsPrivate: false, downloadLimit, UploadLimit: 0, seedRatio);

    internal static SessionSettingsSnapshot Session(long downloadLimit = 0, int port = 6881) =>
        new("/dl", downloadLimit, 0, 5, 10, true, 200, 50, port, 0, false);

    private static JsonElement Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static RpcArguments Args(string json) => new(JsonDocument.Parse(json).RootElement);

    private static TorrentDetails Details(TorrentStatus status) => new(
        status,
        [new FileStatus("name/a", 700, 300, true, FilePriority.Normal), new FileStatus("name/b", 500, 0, false, FilePriority.High)],
        [new PeerSummary("127.0.0.1", 7000, "libtorrent", Incoming: true, PeerChoking: false, PeerInterested: true,
            AmChoking: false, AmInterested: true, DownloadRate: 10, UploadRate: 0, Progress: 0.5)],
        [new TrackerSummary("http://127.0.0.1:1/announce", 0, true, "Success", Now.AddMinutes(-1), 3, Now.AddMinutes(29))],
        [0b1000_0000],
        "a comment", "bta", Now.AddDays(-1), "magnet:?xt=urn:btih:x");

    [Fact]
    public void The_list_fields_of_transmission_remote_map_from_the_status()
    {
        string[] fields = ["error", "errorString", "eta", "id", "isFinished", "leftUntilDone", "name", "peersGettingFromUs",
            "peersSendingToUs", "rateDownload", "rateUpload", "sizeWhenDone", "status", "uploadRatio"];
        var json = Write(w => TorrentFields.WriteObject(w, fields, new TorrentFieldSource(Status(), null, Session(), Now)));

        Assert.Equal(fields.Order(StringComparer.Ordinal), json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(0, json.GetProperty("error").GetInt32());
        Assert.Equal(14, json.GetProperty("eta").GetInt64()); // 700 bytes left at 50 B/s
        Assert.Equal(700, json.GetProperty("leftUntilDone").GetInt64());
        Assert.Equal(1000, json.GetProperty("sizeWhenDone").GetInt64());
        Assert.Equal(4, json.GetProperty("status").GetInt32());
        Assert.Equal(0.25, json.GetProperty("uploadRatio").GetDouble());
        Assert.False(json.GetProperty("isFinished").GetBoolean());
    }

    [Fact]
    public void Unknown_fields_are_left_out_and_every_known_field_writes_valid_json()
    {
        var source = new TorrentFieldSource(Status(), Details(Status()), Session(), Now);
        var json = Write(w => TorrentFields.WriteObject(w, [.. TorrentFields.All, "no-such-field"], source));

        Assert.False(json.TryGetProperty("no-such-field", out _));
        Assert.Equal(TorrentFields.All.Count, json.EnumerateObject().Count());
        Assert.Contains("percentDone", TorrentFields.All);
    }

    [Fact]
    public void Details_fields_carry_files_peers_trackers_and_pieces()
    {
        var status = Status();
        var json = Write(w => TorrentFields.WriteObject(w,
            ["files", "fileStats", "wanted", "priorities", "peers", "trackerStats", "pieces", "comment", "percentDone"],
            new TorrentFieldSource(status, Details(status), Session(), Now)));

        Assert.Equal("name/b", json.GetProperty("files")[1].GetProperty("name").GetString());
        Assert.Equal(300, json.GetProperty("files")[0].GetProperty("bytesCompleted").GetInt64());
        Assert.False(json.GetProperty("fileStats")[1].GetProperty("wanted").GetBoolean());
        Assert.Equal([1, 0], json.GetProperty("wanted").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([0, 1], json.GetProperty("priorities").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("DI", json.GetProperty("peers")[0].GetProperty("flagStr").GetString());
        Assert.Equal("http://127.0.0.1:1/scrape", json.GetProperty("trackerStats")[0].GetProperty("scrape").GetString());
        Assert.Equal(3, json.GetProperty("trackerStats")[0].GetProperty("lastAnnouncePeerCount").GetInt32());
        Assert.Equal("gA==", json.GetProperty("pieces").GetString());
        Assert.Equal("a comment", json.GetProperty("comment").GetString());
        Assert.Equal(0.3, json.GetProperty("percentDone").GetDouble());
        Assert.True(TorrentFields.NeedDetails(["id", "files"]));
        Assert.False(TorrentFields.NeedDetails(["id", "name", "percentDone"]));
    }

    [Fact]
    public void Size_when_done_counts_verified_pieces_of_deselected_files_as_transmission_does()
    {
        // Complete, then a 700-byte file deselected: wanted 500 of 500 verified, 1200 verified in all.
        var status = Status(wanted: 500, wantedVerified: 500) with { VerifiedBytes = 1200 };
        Assert.Equal(1200, TorrentFields.SizeWhenDone(status));
        Assert.Equal(1, TorrentFields.PercentDone(status));
        // Half-way with nothing deselected: 300 verified of 1000.
        var half = Status(wanted: 1000, wantedVerified: 300);
        Assert.Equal(1000, TorrentFields.SizeWhenDone(half));
        Assert.Equal(0.3, TorrentFields.PercentDone(half));
        Assert.Equal(1, TorrentFields.PercentDone(Status(wanted: 0, wantedVerified: 0) with { VerifiedBytes = 0 }));
    }

    [Fact]
    public void Table_format_writes_rows_in_field_order()
    {
        var json = Write(w => TorrentFields.WriteRow(w, ["id", "name"], new TorrentFieldSource(Status(id: 7), null, Session(), Now)));
        Assert.Equal(7, json[0].GetInt32());
        Assert.Equal("name", json[1].GetString());
    }

    [Theory]
    [InlineData(TorrentActivity.Stopped, 0)]
    [InlineData(TorrentActivity.QueuedToCheck, 1)]
    [InlineData(TorrentActivity.Checking, 2)]
    [InlineData(TorrentActivity.QueuedToDownload, 3)]
    [InlineData(TorrentActivity.Downloading, 4)]
    [InlineData(TorrentActivity.QueuedToSeed, 5)]
    [InlineData(TorrentActivity.Seeding, 6)]
    [InlineData(TorrentActivity.Finished, 0)]
    public void Status_codes_are_transmissions(TorrentActivity activity, int code)
    {
        var json = Write(w => TorrentFields.WriteObject(w, ["status", "isFinished"],
            new TorrentFieldSource(Status(activity: activity), null, Session(), Now)));
        Assert.Equal(code, json.GetProperty("status").GetInt32());
        Assert.Equal(activity == TorrentActivity.Finished, json.GetProperty("isFinished").GetBoolean());
    }

    [Fact]
    public void Eta_ratio_and_error_follow_transmissions_conventions()
    {
        Assert.Equal(TorrentFields.EtaUnknown, TorrentFields.Eta(Status(rate: 0)));
        Assert.Equal(TorrentFields.EtaNotAvailable, TorrentFields.Eta(Status(activity: TorrentActivity.Stopped)));
        Assert.Equal(TorrentFields.EtaNotAvailable, TorrentFields.Eta(Status(wantedVerified: 1000)));
        Assert.Equal(-1, TorrentFields.Ratio(Status(downloaded: 0, uploaded: 0) with { VerifiedBytes = 0 }));
        Assert.Equal(-2, TorrentFields.Ratio(Status(downloaded: 0, uploaded: 5) with { VerifiedBytes = 0 }));
        Assert.Equal(0.5, TorrentFields.Ratio(Status(downloaded: 0, uploaded: 150))); // over verified bytes (300)
        Assert.Equal(3, TorrentFields.ErrorCode(Status(error: "disk full")));
        var json = Write(w => TorrentFields.WriteObject(w, ["errorString", "downloadLimit", "downloadLimited"],
            new TorrentFieldSource(Status(error: "disk full", downloadLimit: 250_000), null, Session(), Now)));
        Assert.Equal("disk full", json.GetProperty("errorString").GetString());
        Assert.Equal(250, json.GetProperty("downloadLimit").GetInt64()); // kB/s of 1000 bytes
        Assert.True(json.GetProperty("downloadLimited").GetBoolean());
    }

    [Fact]
    public void Session_get_advertises_what_transmission_remote_and_tremotesf_need()
    {
        var json = Write(w => SessionFields.WriteSessionGet(w, Session(downloadLimit: 300_000), "bta 1", "sid", "/state", 123, startAddedTorrents: false));

        Assert.True(json.GetProperty("rpc-version").GetInt32() >= 15);
        Assert.True(json.GetProperty("rpc-version-minimum").GetInt32() <= 14);
        Assert.Equal("bta 1", json.GetProperty("version").GetString());
        Assert.Equal("/dl", json.GetProperty("download-dir").GetString());
        Assert.Equal(300, json.GetProperty("speed-limit-down").GetInt64());
        Assert.True(json.GetProperty("speed-limit-down-enabled").GetBoolean());
        Assert.False(json.GetProperty("speed-limit-up-enabled").GetBoolean());
        Assert.Equal(6881, json.GetProperty("peer-port").GetInt32());
        Assert.Equal(5, json.GetProperty("download-queue-size").GetInt32());
        Assert.False(json.GetProperty("dht-enabled").GetBoolean());
        var dht = Write(w => SessionFields.WriteSessionGet(w, Session() with { DhtEnabled = true }, "v", "s", "/c", 0, true, ["dht-enabled"]));
        Assert.True(dht.GetProperty("dht-enabled").GetBoolean());
        Assert.False(json.GetProperty("pex-enabled").GetBoolean());
        Assert.False(json.GetProperty("lpd-enabled").GetBoolean());
        var lsd = Write(w => SessionFields.WriteSessionGet(w, Session() with { LsdEnabled = true }, "v", "s", "/c", 0, true, ["lpd-enabled"]));
        Assert.True(lsd.GetProperty("lpd-enabled").GetBoolean());
        Assert.False(json.GetProperty("start-added-torrents").GetBoolean());
        Assert.Equal(1000, json.GetProperty("units").GetProperty("speed-bytes").GetInt32());

        var only = Write(w => SessionFields.WriteSessionGet(w, Session(), "v", "s", "/c", 0, true, ["version"]));
        Assert.Equal(["version"], only.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Session_set_maps_keys_and_refuses_what_bta_cannot_apply()
    {
        var update = SessionFields.ParseSessionSet(Args("""
            {"download-dir":"/new","speed-limit-down":100,"speed-limit-down-enabled":true,"speed-limit-up-enabled":false,
             "download-queue-size":3,"seed-queue-size":4,"peer-limit-global":90,"peer-limit-per-torrent":9,
             "seedRatioLimit":2.5,"seedRatioLimited":true,"download-queue-enabled":false,"peer-port":6881,"blocklist-enabled":false}
            """), Session());
        Assert.Equal(new SessionSettingsUpdate("/new", 100_000, 0, 3, 4, false, 90, 9, 2.5, true), update);

        Assert.Equal(new SessionSettingsUpdate(), SessionFields.ParseSessionSet(Args("{}"), Session()));
        var port = Assert.Throws<RpcArgumentException>(() => SessionFields.ParseSessionSet(Args("""{"peer-port":7000}"""), Session()));
        Assert.Contains("peer-port", port.Message);
        var type = Assert.Throws<RpcArgumentException>(() => SessionFields.ParseSessionSet(Args("""{"download-queue-size":"x"}"""), Session()));
        Assert.Contains("download-queue-size", type.Message);
    }

    [Fact]
    public void Ids_select_by_number_hash_and_recent_activity()
    {
        var other = InfoHash.Compute("d4:name1:ye"u8);
        TorrentStatus[] torrents =
        [
            Status(id: 1, activity: TorrentActivity.Stopped) with { AddedAt = Now.AddHours(-2) },
            Status(id: 2, hash: other, activity: TorrentActivity.Stopped, activityAt: Now.AddSeconds(-10)) with { AddedAt = Now.AddHours(-2) },
            Status(id: 3, activity: TorrentActivity.Stopped) with { AddedAt = Now.AddHours(-2) },
        ];
        int[] Ids(string json) => [.. TorrentIds.Parse(Args(json)).Select(torrents, Now).Select(t => t.Id)];

        Assert.Equal([1, 2, 3], Ids("{}"));
        Assert.Equal([3], Ids("""{"ids":3}"""));
        Assert.Equal([1, 3], Ids("""{"ids":[3,1,99]}"""));
        Assert.Equal([2], Ids($$"""{"ids":["{{other.ToHex()}}"]}"""));
        Assert.Equal([2], Ids("""{"ids":"recently-active"}"""));
        Assert.True(TorrentIds.Parse(Args("""{"ids":"recently-active"}""")).RecentlyActive);
        Assert.Throws<RpcArgumentException>(() => Ids("""{"ids":["not-a-hash"]}"""));
        Assert.Throws<RpcArgumentException>(() => Ids("""{"ids":{"a":1}}"""));
    }

    [Fact]
    public void File_changes_apply_indices_and_an_empty_list_means_every_file()
    {
        bool[] wanted = [true, true, true];
        FilePriority[] priorities = [FilePriority.Normal, FilePriority.Normal, FilePriority.Normal];

        var some = FileChanges.Parse(Args("""{"files-unwanted":[1],"priority-high":[2]}""")).ApplyTo(wanted, priorities)!;
        Assert.Equal([true, false, true], some.Wanted);
        Assert.Equal([FilePriority.Normal, FilePriority.Normal, FilePriority.High], some.Priorities);

        var none = FileChanges.Parse(Args("""{"files-unwanted":[]}""")).ApplyTo(wanted, priorities)!;
        Assert.Equal([false, false, false], none.Wanted);
        Assert.Null(FileChanges.Parse(Args("{}")).ApplyTo(wanted, priorities));
        var range = Assert.Throws<RpcArgumentException>(() => FileChanges.Parse(Args("""{"files-wanted":[3]}""")).ApplyTo(wanted, priorities));
        Assert.Contains("file index 3", range.Message);
        Assert.Throws<RpcArgumentException>(() => FileChanges.Parse(Args("""{"files-wanted":[-1]}""")));
    }

    [Fact]
    public void Torrent_set_maps_limits_ratio_and_peer_limit()
    {
        var update = TorrentSetArguments.Parse(Args("""
            {"downloadLimit":20,"downloadLimited":true,"uploadLimited":false,"seedRatioMode":1,"seedRatioLimit":1.5,"peer-limit":12}
            """), FileChanges.Parse(Args("{}")), null);
        Assert.Equal(new TorrentOptionsUpdate(null, 20_000, 0, 1.5, 12), update);
        var cleared = TorrentSetArguments.Parse(Args("""{"seedRatioMode":0}"""), FileChanges.Parse(Args("{}")), null);
        Assert.True(double.IsNaN(cleared.SeedRatio!.Value));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("localhost:9091", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("127.0.0.1:9091", true)]
    [InlineData("192.0.2.7", true)]
    [InlineData("[::1]:9091", true)]
    [InlineData("nas.lan:9091", true)]
    [InlineData("box.home.arpa", true)]
    [InlineData("evil.example", false)]
    [InlineData("nas.lan.evil.example", false)]
    public void The_host_header_passes_for_localhost_ip_literals_and_the_whitelist(string? host, bool allowed)
    {
        Assert.Equal(allowed, RpcGuard.IsHostAllowed(host, ["nas.lan", "*.home.arpa"]));
    }

    [Fact]
    public void Basic_auth_and_the_session_id_are_checked_exactly()
    {
        var settings = Engine.Hosting.RpcSettings.Default with { Username = "user", Password = "secret" };
        var guard = new RpcGuard(settings, "abc");
        string Basic(string text) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

        Assert.True(guard.IsAuthorized(Basic("user:secret")));
        Assert.False(guard.IsAuthorized(Basic("user:wrong")));
        Assert.False(guard.IsAuthorized("Basic !!!"));
        Assert.False(guard.IsAuthorized(null));
        Assert.True(new RpcGuard(Engine.Hosting.RpcSettings.Default, "abc").IsAuthorized(null));
        Assert.True(guard.SessionIdMatches("abc"));
        Assert.False(guard.SessionIdMatches("abd"));
        Assert.False(guard.SessionIdMatches(null));
        Assert.Equal(48, RpcGuard.NewSessionId().Length);
    }
}
