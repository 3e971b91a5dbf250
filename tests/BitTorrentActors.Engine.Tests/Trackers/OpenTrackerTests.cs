using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using BitTorrentActors.Engine.Trackers;
using BitTorrentActors.Protocol.Trackers;
using BitTorrentActors.Protocol.Wire;
using static BitTorrentActors.Engine.Tests.Trackers.TrackerTestSupport;

namespace BitTorrentActors.Engine.Tests.Trackers;

/// <summary>Interop with the real opentracker (Debian's build: whitelist only, HTTP and UDP on one port).</summary>
public sealed class OpenTrackerTests : Akka.TestKit.Xunit2.TestKit
{
    private const string OpenTrackerPath = "/usr/bin/opentracker";

    [Fact]
    public async Task Second_peer_learns_the_first_peers_address_from_opentracker()
    {
        var port = ClosedPort();
        var first = Context([[$"http://127.0.0.1:{port}/announce"]], listenPort: 10001);
        var second = first with { LocalPeerId = PeerId.Generate(), ListenPort = 10002 };
        using var tracker = OpenTrackerProcess.Start(port, first.InfoHash.ToHex());
        var transport = HttpTrackerTransport.FromSettings(first.Settings.Tracker);

        var firstAnswer = await AnnounceUntilAuthorisedAsync(first, transport);
        Assert.True(firstAnswer.Success, firstAnswer.Failure?.Reason);

        var coordinator = CreateTestProbe();
        var actor = Sys.ActorOf(TrackerActor.Props(second, coordinator, transport));
        var found = (TrackerActor.PeersFound)await coordinator.FishForMessageAsync(
            m => m is TrackerActor.PeersFound, TimeSpan.FromSeconds(10));
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 10001), found.Peers);

        actor.Tell(TrackerActor.AnnounceStopped.Instance, TestActor);
        await ExpectMsgAsync<TrackerActor.StoppedAnnounced>(TimeSpan.FromSeconds(5));
        var stopped = await TrackerActor.AnnounceOnceAsync(first, transport, CancellationToken.None, AnnounceEvent.Stopped);
        Assert.True(stopped.Success, stopped.Failure?.Reason);
    }

    /// <summary>opentracker reads its whitelist on a thread of its own after it starts listening, so the very
    /// first announce can be refused as "not authorized"; a few retries cover that window.</summary>
    private static async Task<AnnounceResult> AnnounceUntilAuthorisedAsync(
        BitTorrentActors.Engine.Torrent.TorrentContext context, ITrackerTransport transport)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            var result = await TrackerActor.AnnounceOnceAsync(context, transport, CancellationToken.None);
            if (result.Success || DateTime.UtcNow > deadline)
            {
                return result;
            }
            await Task.Delay(200);
        }
    }

    private sealed class OpenTrackerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly string _whitelist;

        private OpenTrackerProcess(Process process, string whitelist)
        {
            _process = process;
            _whitelist = whitelist;
        }

        public static OpenTrackerProcess Start(int port, string infoHashHex)
        {
            Assert.True(File.Exists(OpenTrackerPath), $"{OpenTrackerPath} is not installed");
            var whitelist = Path.Combine(Path.GetTempPath(), $"bta-opentracker-{Guid.NewGuid():N}.whitelist");
            File.WriteAllText(whitelist, infoHashHex + "\n");
            var info = new ProcessStartInfo(OpenTrackerPath)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "-i", "127.0.0.1", "-p", $"{port}", "-P", $"{port}", "-w", whitelist })
            {
                info.ArgumentList.Add(arg);
            }
            var process = Process.Start(info) ?? throw new InvalidOperationException("opentracker did not start");
            // Drained so a chatty tracker never blocks on a full pipe.
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var running = new OpenTrackerProcess(process, whitelist);
            try
            {
                running.WaitUntilListening(port, TimeSpan.FromSeconds(10));
            }
            catch
            {
                running.Dispose();
                throw;
            }
            return running;
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill();
                    _process.WaitForExit(5000);
                }
            }
            finally
            {
                _process.Dispose();
                File.Delete(_whitelist);
            }
        }

        private void WaitUntilListening(int port, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                Assert.False(_process.HasExited, $"opentracker exited with code {(_process.HasExited ? _process.ExitCode : 0)}");
                try
                {
                    using var probe = new TcpClient();
                    probe.Connect(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException)
                {
                    Thread.Sleep(100);
                }
            }
            throw new TimeoutException($"opentracker did not listen on 127.0.0.1:{port} within {timeout}");
        }
    }
}
