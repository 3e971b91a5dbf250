using System.Net;
using System.Text.Json;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Protocol.Metainfo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>The RPC over HTTP against a real session in-process: the handshake, auth, Host refusal, bounded
/// bodies, and every bad input answered with a clear <c>result</c>.</summary>
public sealed class RpcHttpTests
{
    private static byte[] TorrentBytes(int seed, string name = "test") => TorrentBuilder.Build(name, 16 * 1024,
        [("a.bin", TestTorrents.Content(40_000, seed)), ("b.bin", TestTorrents.Content(20_000, seed + 1))]);

    private static string Add(byte[] torrent, bool paused = true) =>
        $$"""{"metainfo":"{{Convert.ToBase64String(torrent)}}","paused":{{(paused ? "true" : "false")}}}""";

    private static string Result(JsonElement reply) => reply.GetProperty("result").GetString()!;

    [Fact]
    public async Task A_request_without_the_session_id_gets_409_with_the_id_then_succeeds_with_it()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();

        using var first = await client.SendAsync("""{"method":"session-get"}""", sessionId: "");
        Assert.Equal(HttpStatusCode.Conflict, first.StatusCode);
        var id = Assert.Single(first.Headers.GetValues("X-Transmission-Session-Id"));
        using var wrong = await client.SendAsync("""{"method":"session-get"}""", sessionId: "not-it");
        Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);

        using var second = await client.SendAsync("""{"method":"session-get","tag":12}""", "application/x-www-form-urlencoded", sessionId: id);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using var json = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        Assert.Equal("success", json.RootElement.GetProperty("result").GetString());
        Assert.Equal(12, json.RootElement.GetProperty("tag").GetInt32());
        Assert.Equal(host.Downloads, json.RootElement.GetProperty("arguments").GetProperty("download-dir").GetString());
        Assert.Equal(id, json.RootElement.GetProperty("arguments").GetProperty("session-id").GetString());
    }

    [Fact]
    public async Task Basic_auth_is_required_when_a_user_is_configured()
    {
        await using var host = await RpcTestHost.StartAsync("""
            bta.rpc.username = "alice"
            bta.rpc.password = "s3cret"
            """);
        using var anonymous = host.Client();
        using var none = await anonymous.SendAsync("{}");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Contains("Basic", none.Headers.WwwAuthenticate.ToString());
        Assert.False(none.Headers.Contains("X-Transmission-Session-Id"));

        using var wrong = host.Client("alice", "guess");
        using var refused = await wrong.SendAsync("{}");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        using var right = host.Client("alice", "s3cret");
        await right.HandshakeAsync();
        await right.SucceedAsync("session-stats");
    }

    [Fact]
    public async Task A_host_header_that_is_not_localhost_an_ip_or_whitelisted_is_refused()
    {
        await using var host = await RpcTestHost.StartAsync("""
            bta.rpc.host-whitelist = "nas.lan, *.home.arpa"
            """);
        using var client = host.Client();
        using var evil = await client.SendAsync("{}", host: "evil.example:9091");
        Assert.Equal(HttpStatusCode.MisdirectedRequest, evil.StatusCode);
        Assert.False(evil.Headers.Contains("X-Transmission-Session-Id"));

        using var listed = await client.SendAsync("{}", host: "nas.lan:9091");
        Assert.Equal(HttpStatusCode.Conflict, listed.StatusCode);
        using var wildcard = await client.SendAsync("{}", host: "box.home.arpa");
        Assert.Equal(HttpStatusCode.Conflict, wildcard.StatusCode);
        using var local = await client.SendAsync("{}", host: "localhost");
        Assert.Equal(HttpStatusCode.Conflict, local.StatusCode);
    }

    [Fact]
    public async Task Malformed_requests_and_unknown_methods_get_a_result_naming_the_problem()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        await client.HandshakeAsync();

        async Task<string> Raw(string body)
        {
            using var response = await client.SendAsync(body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return json.RootElement.GetProperty("result").GetString()!;
        }

        Assert.StartsWith("invalid JSON", await Raw("""{"method": "session-get",""" ));
        Assert.StartsWith("invalid JSON", await Raw("not json at all"));
        Assert.StartsWith("invalid JSON", await Raw(new string('[', 5000)));
        Assert.Equal("no method name", await Raw("""{"arguments":{}}"""));
        Assert.Equal("no method name", await Raw("[1,2]"));
        Assert.Equal("'arguments' must be an object", await Raw("""{"method":"torrent-get","arguments":[1]}"""));
        Assert.Equal("method name not recognized: 'frobnicate'", Result(await client.CallAsync("frobnicate")));
        Assert.Equal("no fields specified", Result(await client.CallAsync("torrent-get", "{}")));
        Assert.Contains("'fields'", Result(await client.CallAsync("torrent-get", """{"fields":"id"}""")));
        Assert.Contains("'ids'", Result(await client.CallAsync("torrent-start", """{"ids":[true]}""")));
        Assert.Contains("'location'", Result(await client.CallAsync("torrent-set-location", "{}")));
        Assert.Contains("not absolute", Result(await client.CallAsync("torrent-set-location", """{"location":"rel/dir"}""")));
        Assert.Contains("no such folder", Result(await client.CallAsync("free-space", """{"path":"/no/such/folder"}""")));
        Assert.Contains("download-queue-size", Result(await client.CallAsync("session-set", """{"download-queue-size":0}""")));
        await client.SucceedAsync("session-get"); // still serving
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413_and_the_rpc_keeps_serving()
    {
        await using var host = await RpcTestHost.StartAsync("bta.rpc.max-body-bytes = 65536");
        using var client = host.Client();
        await client.HandshakeAsync();
        var huge = "{\"method\":\"torrent-add\",\"arguments\":{\"metainfo\":\"" + new string('A', 200_000) + "\"}}";

        using var response = await client.SendAsync(huge, expectContinue: true);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("max-body-bytes", json.RootElement.GetProperty("result").GetString());
        await client.SucceedAsync("session-stats");
    }

    [Fact]
    public async Task Bogus_torrents_and_bad_filenames_are_refused_with_a_clear_result()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var folder = host.Dir.Sub("torrents");
        var missing = Path.Combine(folder, "missing.torrent");
        var notTorrent = Path.Combine(folder, "junk.torrent");
        await File.WriteAllTextAsync(notTorrent, "d4:junk");

        Assert.StartsWith("invalid or corrupt torrent file", Result(await client.CallAsync("torrent-add",
            $$"""{"metainfo":"{{Convert.ToBase64String("this is no torrent"u8.ToArray())}}"}""")));
        Assert.StartsWith("invalid or corrupt torrent file", Result(await client.CallAsync("torrent-add", """{"metainfo":"***"}""")));
        Assert.Equal($"no such file: '{missing}'", Result(await client.CallAsync("torrent-add", $$"""{"filename":"{{missing}}"}""")));
        Assert.Equal($"'{folder}' is a folder, not a .torrent file", Result(await client.CallAsync("torrent-add", $$"""{"filename":"{{folder}}"}""")));
        Assert.StartsWith("invalid or corrupt torrent file", Result(await client.CallAsync("torrent-add", $$"""{"filename":"{{notTorrent}}"}""")));
        Assert.Contains("not an absolute path", Result(await client.CallAsync("torrent-add", """{"filename":"relative.torrent"}""")));
        // Outside the folders torrent-add may read (bta.rpc.torrent-dirs), directly or through a link inside them.
        Assert.Contains("outside the folders torrent-add may read", Result(await client.CallAsync("torrent-add", """{"filename":"/etc/passwd"}""")));
        var link = Path.Combine(folder, "link.torrent");
        File.CreateSymbolicLink(link, "/etc/hostname");
        Assert.Contains("outside the folders torrent-add may read", Result(await client.CallAsync("torrent-add", $$"""{"filename":"{{link}}"}""")));
        Assert.Contains("v2-only magnet", Result(await client.CallAsync("torrent-add",
            $$"""{"filename":"magnet:?xt=urn:btmh:1220{{new string('a', 64)}}"}""")));
        Assert.Equal("invalid magnet link: info-hash must be 40 hex or 32 base32 characters", Result(await client.CallAsync("torrent-add",
            """{"filename":"magnet:?xt=urn:btih:0123"}""")));
        Assert.Contains("loopback", Result(await client.CallAsync("torrent-add", """{"filename":"http://192.0.2.1/x.torrent"}""")));
        Assert.Contains("'metainfo' or 'filename'", Result(await client.CallAsync("torrent-add", "{}")));
        Assert.Contains("file index 9", Result(await client.CallAsync("torrent-add",
            Add(TorrentBytes(1))[..^1] + ""","files-unwanted":[9]}""")));
        var list = await client.SucceedAsync("torrent-get", """{"fields":["id"]}""");
        Assert.Equal(0, list.GetProperty("torrents").GetArrayLength());
    }

    [Fact]
    public async Task A_magnet_is_added_by_filename_reported_as_transmission_does_while_it_fetches_and_a_second_add_is_a_duplicate()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var torrent = TorrentBytes(5, "five");
        var hash = TorrentMetainfo.Parse(torrent).Metainfo!.InfoHash.ToHex();
        var magnet = $"magnet:?xt=urn:btih:{hash}&dn=five%20show";

        var added = (await client.SucceedAsync("torrent-add", $$"""{"filename":"{{magnet}}"}""")).GetProperty("torrent-added");
        var again = (await client.SucceedAsync("torrent-add", $$"""{"filename":"magnet:?xt=urn:btih:{{hash.ToUpperInvariant()}}"}""")).GetProperty("torrent-duplicate");
        var asFile = (await client.SucceedAsync("torrent-add", Add(torrent))).GetProperty("torrent-duplicate");

        Assert.Equal((1, "five show", hash), (added.GetProperty("id").GetInt32(), added.GetProperty("name").GetString(), added.GetProperty("hashString").GetString()));
        Assert.Equal((1, "five show"), (again.GetProperty("id").GetInt32(), again.GetProperty("name").GetString()));
        Assert.Equal(1, asFile.GetProperty("id").GetInt32());
        Assert.Contains("metadata has arrived", Result(await client.CallAsync("torrent-add", $$"""{"filename":"{{magnet}}","files-unwanted":[0]}""")));
        var got = (await client.SucceedAsync("torrent-get",
            """{"fields":["id","name","status","totalSize","metadataPercentComplete","percentDone","magnetLink","files","leftUntilDone"]}"""))
            .GetProperty("torrents");
        var t = Assert.Single(got.EnumerateArray());
        Assert.Equal("five show", t.GetProperty("name").GetString());
        Assert.Equal(4, t.GetProperty("status").GetInt32());
        Assert.Equal(0, t.GetProperty("totalSize").GetInt64());
        Assert.Equal(0, t.GetProperty("metadataPercentComplete").GetDouble());
        Assert.Equal(0, t.GetProperty("percentDone").GetDouble());
        Assert.Equal(0, t.GetProperty("files").GetArrayLength());
        Assert.StartsWith($"magnet:?xt=urn:btih:{hash}&dn=five%20show", t.GetProperty("magnetLink").GetString());
    }

    [Fact]
    public async Task Every_torrent_has_a_magnet_link_and_a_complete_metadata()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var torrent = TorrentBytes(6, "six");
        var hash = TorrentMetainfo.Parse(torrent).Metainfo!.InfoHash.ToHex();
        await client.SucceedAsync("torrent-add", Add(torrent));

        var t = (await client.SucceedAsync("torrent-get", """{"fields":["metadataPercentComplete","magnetLink"]}""")).GetProperty("torrents")[0];

        Assert.Equal(1, t.GetProperty("metadataPercentComplete").GetDouble());
        Assert.Equal($"magnet:?xt=urn:btih:{hash}&dn=six", t.GetProperty("magnetLink").GetString());
    }

    [Fact]
    public async Task Torrents_are_added_listed_changed_and_removed()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var first = TorrentBytes(10, "first");
        var path = Path.Combine(host.Dir.Sub("torrents"), "second.torrent");
        await File.WriteAllBytesAsync(path, TorrentBytes(20, "second"));

        var added = (await client.SucceedAsync("torrent-add", Add(first))).GetProperty("torrent-added");
        var id = added.GetProperty("id").GetInt32();
        Assert.Equal("first", added.GetProperty("name").GetString());
        var duplicate = await client.CallAsync("torrent-add", Add(first));
        Assert.Equal("success", Result(duplicate));
        Assert.Equal(id, duplicate.GetProperty("arguments").GetProperty("torrent-duplicate").GetProperty("id").GetInt32());
        var second = (await client.SucceedAsync("torrent-add", $$"""{"filename":"{{path}}","paused":true,"files-unwanted":[0]}"""))
            .GetProperty("torrent-added");
        var hash = second.GetProperty("hashString").GetString()!;

        var all = await client.SucceedAsync("torrent-get", """{"fields":["id","name","status","totalSize","wanted","files","hashString","percentDone"]}""");
        Assert.Equal(["first", "second"], all.GetProperty("torrents").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        var byHash = (await client.SucceedAsync("torrent-get", $$"""{"ids":["{{hash}}"],"fields":["name","wanted","status"]}"""))
            .GetProperty("torrents").EnumerateArray().Single();
        Assert.Equal([0, 1], byHash.GetProperty("wanted").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(0, byHash.GetProperty("status").GetInt32()); // paused

        await client.SucceedAsync("torrent-set", $$"""{"ids":[{{id}}],"files-unwanted":[1],"priority-high":[0],"downloadLimit":30,"downloadLimited":true}""");
        var changed = (await client.SucceedAsync("torrent-get", $$"""{"ids":{{id}},"fields":["wanted","priorities","downloadLimit","downloadLimited"]}"""))
            .GetProperty("torrents")[0];
        Assert.Equal([1, 0], changed.GetProperty("wanted").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([1, 0], changed.GetProperty("priorities").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(30, changed.GetProperty("downloadLimit").GetInt32());
        Assert.Contains("file index 5", Result(await client.CallAsync("torrent-set", $$"""{"ids":[{{id}}],"files-wanted":[5]}""")));

        var table = (await client.SucceedAsync("torrent-get", """{"fields":["id","name"],"format":"table"}""")).GetProperty("torrents");
        Assert.Equal(["id", "name"], table[0].EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(3, table.GetArrayLength());

        await client.SucceedAsync("session-set", """{"speed-limit-down":500,"speed-limit-down-enabled":true,"download-queue-size":2}""");
        var session = await client.SucceedAsync("session-get", """{"fields":["speed-limit-down","speed-limit-down-enabled","download-queue-size"]}""");
        Assert.Equal(500, session.GetProperty("speed-limit-down").GetInt32());
        Assert.Equal(2, session.GetProperty("download-queue-size").GetInt32());
        var stats = await client.SucceedAsync("session-stats");
        Assert.Equal(2, stats.GetProperty("torrentCount").GetInt32());
        var free = await client.SucceedAsync("free-space", $$"""{"path":"{{host.Downloads}}"}""");
        Assert.True(free.GetProperty("size-bytes").GetInt64() > 0);

        foreach (var method in new[] { "torrent-start", "torrent-stop", "torrent-verify", "torrent-reannounce", "torrent-start-now", "torrent-stop" })
        {
            await client.SucceedAsync(method, $$"""{"ids":[{{id}}]}""");
        }
        await client.SucceedAsync("torrent-remove", $$"""{"ids":["{{hash}}"],"delete-local-data":true}""");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await client.SucceedAsync("torrent-get", """{"fields":["id"]}""")).GetProperty("torrents").GetArrayLength() != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the removed torrent is still listed");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_torrent_is_added_from_an_http_url()
    {
        await using var host = await RpcTestHost.StartAsync();
        var bytes = TorrentBytes(30, "from-url");
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        await using var server = builder.Build();
        server.UseRouting();
        server.MapGet("/x.torrent", (HttpContext c) => c.Response.Body.WriteAsync(bytes).AsTask());
        await server.StartAsync();
        var url = server.Urls.First().TrimEnd('/');
        using var client = host.Client();

        var added = await client.SucceedAsync("torrent-add", $$"""{"filename":"{{url}}/x.torrent","paused":true}""");
        Assert.Equal("from-url", added.GetProperty("torrent-added").GetProperty("name").GetString());
        Assert.Contains("HTTP 404", Result(await client.CallAsync("torrent-add", $$"""{"filename":"{{url}}/missing.torrent"}""")));
        await server.StopAsync();
    }

    [Fact]
    public async Task A_get_with_the_session_id_is_not_an_rpc_call()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var id = await client.HandshakeAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, host.Url);
        request.Headers.Add("X-Transmission-Session-Id", id);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Removing_with_data_deletes_the_files_there_even_when_some_were_never_created()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var present = TestTorrents.Content(20_000, 41);
        var torrent = TorrentBuilder.Build("gone", 16 * 1024, [("sub/a.bin", TestTorrents.Content(30_000, 40)), ("b.bin", present)]);
        var onDisk = Path.Combine(host.Downloads, "gone", "b.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(onDisk)!);
        await File.WriteAllBytesAsync(onDisk, present);
        var id = (await client.SucceedAsync("torrent-add", Add(torrent))).GetProperty("torrent-added").GetProperty("id").GetInt32();

        await client.SucceedAsync("torrent-remove", $$"""{"ids":[{{id}}],"delete-local-data":true}""");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        var folder = Path.Combine(host.Downloads, "gone");
        // The store deletes the files, then the emptied folder: wait for both.
        while (Directory.Exists(folder) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.False(File.Exists(onDisk), "b.bin is still there: the missing sub/a.bin stopped the delete");
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public async Task A_removed_torrent_leaves_the_list_at_once_while_its_stopped_announce_is_still_out()
    {
        // A tracker that takes the connection and never answers: the coordinator's stop waits on its announce.
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var announce = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/announce";
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var torrent = TorrentBuilder.Build("slow", 16 * 1024, [("a.bin", TestTorrents.Content(30_000, 70))], announceTiers: [[announce]]);
        var id = (await client.SucceedAsync("torrent-add", Add(torrent, paused: false))).GetProperty("torrent-added").GetProperty("id").GetInt32();
        await Task.Delay(500); // running, its started announce out

        await client.SucceedAsync("torrent-remove", $$"""{"ids":[{{id}}]}""");

        var torrents = (await client.SucceedAsync("torrent-get", """{"fields":["id","name"]}""")).GetProperty("torrents");
        Assert.Equal(0, torrents.GetArrayLength());
    }

    [Fact]
    public async Task Set_location_with_move_moves_the_data_and_reports_the_new_folder()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var content = TestTorrents.Content(50_000, 90);
        var torrent = TorrentBuilder.Build("moved.bin", 16 * 1024, [("moved.bin", content)], singleFile: true);
        await File.WriteAllBytesAsync(Path.Combine(host.Downloads, "moved.bin"), content);
        var id = (await client.SucceedAsync("torrent-add", Add(torrent))).GetProperty("torrent-added").GetProperty("id").GetInt32();
        var target = host.Dir.Sub("elsewhere");

        await client.SucceedAsync("torrent-set-location", $$"""{"ids":[{{id}}],"location":"{{target}}","move":true}""");

        var moved = Path.Combine(target, "moved.bin");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string? folder = null;
        while (DateTime.UtcNow < deadline)
        {
            folder = (await client.SucceedAsync("torrent-get", $$"""{"ids":[{{id}}],"fields":["downloadDir"]}"""))
                .GetProperty("torrents")[0].GetProperty("downloadDir").GetString();
            if (folder == target && File.Exists(moved))
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.Equal(target, folder);
        Assert.Equal(content, await File.ReadAllBytesAsync(moved));
        Assert.False(File.Exists(Path.Combine(host.Downloads, "moved.bin")));
    }
}
