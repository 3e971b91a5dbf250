using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using BitTorrentActors.Api.Rpc;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Engine.Tests.TestSupport;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>
/// What Debian's Transmission 3.00 web UI (transmission-common, /usr/share/transmission/web) asks of the RPC: every
/// method and field it names in its JavaScript is answered, and the ones bta added for it (recently removed ids,
/// port-test, blocklist-update, torrent-rename-path, queue-move-*) behave as the web UI needs.
/// </summary>
public sealed partial class TransmissionWebUiRpcTests : TestKit
{
    public const string WebUiFolder = "/usr/share/transmission/web";

    private static string Script(string name)
    {
        var path = Path.Combine(WebUiFolder, "javascript", name);
        Assert.True(File.Exists(path), $"{path} is missing: install Debian's transmission-common");
        return File.ReadAllText(path);
    }

    private static byte[] TorrentBytes(int seed, string name) => TorrentBuilder.Build(name, 16 * 1024,
        [("a.bin", TestTorrents.Content(40_000, seed))]);

    private static string Add(byte[] torrent) => $$"""{"metainfo":"{{Convert.ToBase64String(torrent)}}","paused":true}""";

    private static string Result(JsonElement reply) => reply.GetProperty("result").GetString()!;

    [Fact]
    public void Every_method_the_web_ui_calls_is_one_bta_answers()
    {
        var remote = Script("remote.js");
        var methods = MethodName().Matches(remote).Select(m => m.Groups[1].Value)
            .Concat(QueueConstant().Matches(remote).Select(m => m.Groups[1].Value))
            .Concat(["torrent-start-now", "torrent-start"]) // picked by a ternary in startTorrents
            .Concat(MethodName().Matches(Script("transmission.js")).Select(m => m.Groups[1].Value))
            .Distinct().Order().ToList();

        Assert.Equal(21, methods.Count);
        Assert.Empty(methods.Except(TransmissionRpc.Methods));
    }

    [Fact]
    public void Every_torrent_field_the_web_ui_reads_is_one_bta_answers()
    {
        var torrent = Script("torrent.js");
        var fields = FieldList().Matches(torrent)
            .SelectMany(m => Quoted().Matches(m.Groups[1].Value).Select(q => q.Groups[1].Value))
            .Append("id").Distinct().ToList();

        Assert.Equal(46, fields.Count); // 45 in Torrent.Fields, and id
        Assert.Equal([], fields.Where(f => !TorrentFields.IsKnown(f)).ToList());
    }

    [Fact]
    public async Task Every_session_key_the_preferences_dialog_shows_is_in_session_get()
    {
        var prefs = Script("prefs-dialog.js");
        var keysBlock = KeysBlock().Match(prefs).Groups[1].Value;
        var keys = Quoted().Matches(keysBlock).Select(m => m.Groups[1].Value).ToList();
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();

        var session = await client.SucceedAsync("session-get");

        Assert.Equal(30, keys.Count);
        Assert.Equal([], keys.Concat(["version", "rpc-version", "units", "alt-speed-enabled", "download-dir-free-space"])
            .Where(k => !session.TryGetProperty(k, out _)).ToList());
    }

    [Fact]
    public async Task A_recently_active_get_names_the_ids_removed_in_the_last_minute()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var kept = (await client.SucceedAsync("torrent-add", Add(TorrentBytes(31, "kept")))).GetProperty("torrent-added").GetProperty("id").GetInt32();
        var gone = (await client.SucceedAsync("torrent-add", Add(TorrentBytes(32, "gone")))).GetProperty("torrent-added").GetProperty("id").GetInt32();
        var before = await client.SucceedAsync("torrent-get", """{"ids":"recently-active","fields":["id"]}""");
        Assert.Empty(before.GetProperty("removed").EnumerateArray());

        await client.SucceedAsync("torrent-remove", $$"""{"ids":[{{gone}}]}""");

        var after = await client.SucceedAsync("torrent-get", """{"ids":"recently-active","fields":["id"]}""");
        Assert.Equal([gone], after.GetProperty("removed").EnumerateArray().Select(e => e.GetInt32()));
        Assert.DoesNotContain(gone, after.GetProperty("torrents").EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
        Assert.Contains(kept, after.GetProperty("torrents").EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
        // A get by ids has no removed list, as Transmission's.
        Assert.False((await client.SucceedAsync("torrent-get", """{"fields":["id"]}""")).TryGetProperty("removed", out _));
    }

    [Fact]
    public void The_removed_list_learns_ids_from_what_the_rpc_saw_and_forgets_them_after_a_minute()
    {
        var session = CreateTestProbe();
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var now = start;
        var actor = Sys.ActorOf(RemovedTorrentsActor.Props(session.Ref, () => now));
        session.ExpectMsg<TorrentSessionActor.Subscribe>();
        var seen = new InfoHash(Enumerable.Repeat((byte)1, 20).ToArray());
        var unseen = new InfoHash(Enumerable.Repeat((byte)2, 20).ToArray());

        actor.Tell(new RemovedTorrentsActor.Seen([(seen, 7)]));
        actor.Tell(new TorrentSessionActor.TorrentRemoved(seen));
        actor.Tell(new TorrentSessionActor.TorrentRemoved(unseen));
        actor.Tell(new RemovedTorrentsActor.Removed([9], start.AddSeconds(30)));

        actor.Tell(new RemovedTorrentsActor.GetRecentlyRemoved(start.AddSeconds(59)));
        Assert.Equal([7, 9], ExpectMsg<RemovedTorrentsActor.RecentlyRemoved>().Ids);
        actor.Tell(new RemovedTorrentsActor.GetRecentlyRemoved(start.AddSeconds(61)));
        Assert.Equal([9], ExpectMsg<RemovedTorrentsActor.RecentlyRemoved>().Ids);
        actor.Tell(new RemovedTorrentsActor.GetRecentlyRemoved(start.AddSeconds(91)));
        Assert.Empty(ExpectMsg<RemovedTorrentsActor.RecentlyRemoved>().Ids);
    }

    [Fact]
    public async Task Port_test_blocklist_update_and_rename_path_answer_with_their_reason_and_change_nothing()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var added = (await client.SucceedAsync("torrent-add", Add(TorrentBytes(41, "named")))).GetProperty("torrent-added");
        var id = added.GetProperty("id").GetInt32();

        var port = await client.CallAsync("port-test");
        Assert.False(port.GetProperty("arguments").GetProperty("port-is-open").GetBoolean());
        Assert.Contains("does not ask a service outside this machine", Result(port), StringComparison.Ordinal);

        var blocklist = await client.CallAsync("blocklist-update");
        Assert.Contains("no blocklist", Result(blocklist), StringComparison.Ordinal);

        var rename = await client.CallAsync("torrent-rename-path", $$"""{"ids":[{{id}}],"path":"named","name":"other"}""");
        Assert.Contains("cannot rename", Result(rename), StringComparison.Ordinal);
        Assert.Equal("torrent-rename-path requires 1 torrent",
            Result(await client.CallAsync("torrent-rename-path", """{"ids":[],"path":"named","name":"other"}""")));
        Assert.Contains("'name'", Result(await client.CallAsync("torrent-rename-path", $$"""{"ids":[{{id}}],"path":"named"}""")), StringComparison.Ordinal);
        var name = (await client.SucceedAsync("torrent-get", """{"fields":["name"]}""")).GetProperty("torrents")[0].GetProperty("name").GetString();
        Assert.Equal("named", name);
    }

    [Fact]
    public async Task Queue_moves_reorder_the_queue_as_transmission_does()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var client = host.Client();
        var ids = new List<int>();
        foreach (var (seed, name) in new[] { (51, "q0"), (52, "q1"), (53, "q2"), (54, "q3") })
        {
            ids.Add((await client.SucceedAsync("torrent-add", Add(TorrentBytes(seed, name)))).GetProperty("torrent-added").GetProperty("id").GetInt32());
        }
        async Task<List<string>> OrderAsync()
        {
            var torrents = (await client.SucceedAsync("torrent-get", """{"fields":["name","queuePosition"]}""")).GetProperty("torrents");
            return [.. torrents.EnumerateArray().OrderBy(t => t.GetProperty("queuePosition").GetInt32()).Select(t => t.GetProperty("name").GetString()!)];
        }
        Assert.Equal(["q0", "q1", "q2", "q3"], await OrderAsync());

        await client.SucceedAsync("queue-move-top", $$"""{"ids":[{{ids[2]}}]}""");
        Assert.Equal(["q2", "q0", "q1", "q3"], await OrderAsync());
        await client.SucceedAsync("queue-move-bottom", $$"""{"ids":[{{ids[2]}},{{ids[0]}}]}""");
        Assert.Equal(["q1", "q3", "q2", "q0"], await OrderAsync());
        await client.SucceedAsync("queue-move-up", $$"""{"ids":[{{ids[2]}},{{ids[0]}}]}""");
        Assert.Equal(["q1", "q2", "q0", "q3"], await OrderAsync());
        await client.SucceedAsync("queue-move-down", $$"""{"ids":[{{ids[1]}}]}""");
        Assert.Equal(["q2", "q1", "q0", "q3"], await OrderAsync());
        await client.SucceedAsync("queue-move-up", $$"""{"ids":[{{ids[2]}}]}""");
        Assert.Equal(["q2", "q1", "q0", "q3"], await OrderAsync());
        await client.SucceedAsync("queue-move-top", $$"""{"ids":[{{ids[0]}},{{ids[3]}}]}""");
        Assert.Equal(["q0", "q3", "q2", "q1"], await OrderAsync());
    }

    [GeneratedRegex(@"(?:method:\s*|sendTorrent(?:Action|Set)Requests\()'([a-z-]+)'")]
    private static partial Regex MethodName();

    [GeneratedRegex(@"_QueueMove\w+:\s*'([a-z-]+)'")]
    private static partial Regex QueueConstant();

    [GeneratedRegex(@"Torrent\.Fields\.\w+\s*=\s*\[([^\]]*)\]")]
    private static partial Regex FieldList();

    [GeneratedRegex(@"keys:\s*\[([^\]]*)\]")]
    private static partial Regex KeysBlock();

    [GeneratedRegex(@"'([A-Za-z-]+)'")]
    private static partial Regex Quoted();
}
