using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using BitTorrentActors.Cli.Configuration;
using BitTorrentActors.Cli.Hosting;
using BitTorrentActors.Engine.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BitTorrentActors.Engine.Tests.Cli;

public class HostingTests
{
    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }

    [Fact]
    public async Task The_host_starts_the_bta_actor_system_with_its_dispatchers_and_runs_the_actor_seam()
    {
        var config = BtaConfigLoader.Load([], [new("bta.max-connections", "123")]);
        var settings = BtaSettings.FromConfig(config);
        var written = new StringWriter();
        var log = TextWriter.Synchronized(written); // its methods lock the wrapper itself
        string Logged()
        {
            lock (log)
            {
                return written.ToString();
            }
        }
        BtaSettings? seen = null;

        using var host = BtaHost.Build(config, settings, log, (system, registry, s) =>
        {
            seen = s;
            registry.Register<Echo>(system.ActorOf(Props.Create<Echo>().WithDispatcher(BtaSettings.PeerDispatcherId), "echo"));
            system.Log.Info("seam ran for {0}", system.Name);
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            Assert.Equal(BtaHostingExtensions.ActorSystemName, system.Name);
            Assert.Equal(123, seen?.MaxConnections);
            Assert.Equal(settings, host.Services.GetRequiredService<BtaSettings>());

            var echo = await host.Services.GetRequiredService<IRequiredActor<Echo>>().GetAsync(timeout.Token);
            Assert.Equal("ping", await echo.Ask<string>("ping", TimeSpan.FromSeconds(10)));

            Assert.True(system.Dispatchers.HasDispatcher(BtaSettings.IoDispatcherId));
            Assert.True(system.Dispatchers.HasDispatcher(BtaSettings.PeerDispatcherId));
            var io = system.Dispatchers.Lookup(BtaSettings.IoDispatcherId);
            Assert.Equal(10, io.Throughput);
            Assert.Equal(64, system.Dispatchers.Lookup(BtaSettings.PeerDispatcherId).Throughput);
            // On the thread pool (issue 14): dedicated ForkJoin threads spun in sched_yield.
            Assert.Equal("Dispatcher", system.Settings.Config.GetString(BtaSettings.IoDispatcherId + ".type"));
            Assert.Equal("OFF", system.Settings.Config.GetString("akka.stdout-loglevel"));

            // Akka's log reaches Serilog's sink through Microsoft.Extensions.Logging.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!Logged().Contains("seam ran for bta", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, timeout.Token);
            }
            Assert.Contains("seam ran for bta", Logged());
        }
        finally
        {
            await host.StopAsync(timeout.Token);
        }
    }

    [Fact]
    public void An_invalid_configuration_is_refused_before_the_actor_system_starts()
    {
        var config = BtaConfigLoader.Load([], [new("bta.block-size", "65536")]);
        var services = new ServiceCollection();

        var ex = Assert.Throws<BtaConfigException>(() => services.AddBitTorrentActors(config));

        Assert.Equal("bta.block-size", ex.Key);
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(ActorSystem));
    }

    [Fact]
    public void The_log_file_sink_is_added_when_logging_file_is_set()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"bta-log-{Guid.NewGuid():N}");
        var file = Path.Combine(dir, "bta.log");
        try
        {
            using (var logger = BtaHost.CreateLogger(
                new LoggingSettings(Serilog.Events.LogEventLevel.Information, file), TextWriter.Null))
            {
                logger.Information("hello {Who}", "file");
                logger.Debug("below the level");
            }
            var text = File.ReadAllText(file);
            Assert.Contains("hello file", text);
            Assert.DoesNotContain("below the level", text);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
