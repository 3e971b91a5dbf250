using System.Text.Json;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>Polls torrent-get until a torrent's fields satisfy a condition.</summary>
public static class RpcWait
{
    public static async Task<JsonElement> TorrentAsync(
        RpcClient client, int id, Func<JsonElement, bool> done, TimeSpan timeout, string what, Func<string>? log = null,
        params string[] fields)
    {
        var deadline = DateTime.UtcNow + timeout;
        string[] asked = [.. fields, "id", "name", "status", "percentDone", "leftUntilDone", "error", "errorString", "haveValid"];
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            var torrents = (await client.SucceedAsync("torrent-get", $$"""{"ids":[{{id}}],"fields":{{JsonSerializer.Serialize(asked)}}}"""))
                .GetProperty("torrents");
            if (torrents.GetArrayLength() == 1)
            {
                last = torrents[0];
                if (done(last))
                {
                    return last;
                }
            }
            await Task.Delay(250);
        }
        throw new Xunit.Sdk.XunitException($"torrent {id} did not become {what} within {timeout.TotalSeconds:0}s; last: {last}\n{log?.Invoke()}");
    }

    public static bool Complete(JsonElement t) => t.GetProperty("leftUntilDone").GetInt64() == 0 && t.GetProperty("percentDone").GetDouble() >= 1;
}
