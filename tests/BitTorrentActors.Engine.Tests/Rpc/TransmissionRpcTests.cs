using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using BitTorrentActors.Api.Rpc;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Session;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>The dispatcher against a scripted session: replies the RPC did not expect, and silence, are JSON
/// results, never exceptions.</summary>
public sealed class TransmissionRpcTests : TestKit
{
    private static RpcService Service(TimeSpan askTimeout) => new(
        new RpcGuard(RpcSettings.Default, "id"),
        new RpcServerInfo("bta test", "id", "/state", LoopbackOnly: true, MaxTorrentBytes: 1 << 20, askTimeout),
        RpcSettings.Default,
        new HttpClient());

    private static string Result(byte[] reply)
    {
        using var json = JsonDocument.Parse(reply);
        return json.RootElement.GetProperty("result").GetString()!;
    }

    [Fact]
    public async Task An_unexpected_reply_from_the_session_is_a_result_naming_the_method()
    {
        var session = Sys.ActorOf(Props.Create(() => new Refuser()));
        var rpc = new TransmissionRpc(session, Service(TimeSpan.FromSeconds(5)));

        var reply = await rpc.HandleAsync(Encoding.UTF8.GetBytes("""{"method":"session-get","tag":3}"""), CancellationToken.None);

        Assert.StartsWith("session-get failed:", Result(reply));
    }

    [Fact]
    public async Task A_session_that_does_not_answer_is_a_result_after_the_ask_timeout()
    {
        var rpc = new TransmissionRpc(CreateTestProbe().Ref, Service(TimeSpan.FromMilliseconds(300)));

        var reply = await rpc.HandleAsync(Encoding.UTF8.GetBytes("""{"method":"torrent-get","arguments":{"fields":["id"]}}"""), CancellationToken.None);

        Assert.Equal("the session did not answer in time", Result(reply));
    }

    private sealed class Refuser : ReceiveActor
    {
        public Refuser() => ReceiveAny(_ => Sender.Tell(new TorrentSessionActor.CommandRefused("the session is shutting down")));
    }
}
