using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Peers;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Engine.Tests.Peers;

public sealed class RequestPipelineTests
{
    private static readonly RequestPipelineSettings Settings = new(Initial: 16, Min: 2, Max: 256);

    [Fact]
    public void A_fast_peer_gets_a_deep_pipeline_and_a_slow_one_a_shallow_one()
    {
        var pipeline = new RequestPipeline(Settings, 16384);
        Assert.Equal(16, pipeline.Depth);

        pipeline.Adapt(100L * 1024 * 1024, settled: true);
        Assert.Equal(256, pipeline.Depth);

        pipeline.Adapt(40 * 1024, settled: true);
        Assert.Equal(5, pipeline.Depth);

        pipeline.Adapt(0, settled: true);
        Assert.Equal(2, pipeline.Depth);
    }

    [Fact]
    public void The_peers_reqq_caps_the_room_whatever_the_depth()
    {
        var pipeline = new RequestPipeline(Settings, 16384);
        pipeline.Adapt(100L * 1024 * 1024, settled: true);
        Assert.Equal(256, pipeline.Room);

        pipeline.PeerQueueLimit = 3;
        Assert.True(pipeline.TryAdd(new BlockRequest(0, 0, 16384), TimeSpan.Zero));

        Assert.Equal(256, pipeline.Depth);
        Assert.Equal(2, pipeline.Room);
    }

    [Fact]
    public void Before_the_rate_window_fills_the_depth_only_grows()
    {
        var pipeline = new RequestPipeline(Settings, 16384);

        pipeline.Adapt(16 * 1024, settled: false);
        Assert.Equal(16, pipeline.Depth);

        pipeline.Adapt(1024 * 1024, settled: false);
        Assert.Equal(128, pipeline.Depth);
    }

    [Fact]
    public void Snubbing_gives_everything_back_keeps_one_in_flight_and_a_delivery_ends_it()
    {
        var pipeline = new RequestPipeline(Settings, 16384);
        var start = TimeSpan.FromSeconds(10);
        pipeline.TryAdd(new BlockRequest(0, 0, 16384), start);
        pipeline.TryAdd(new BlockRequest(0, 16384, 16384), start + TimeSpan.FromSeconds(5));

        Assert.False(pipeline.HasTimedOut(start + TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)));
        Assert.True(pipeline.HasTimedOut(start + TimeSpan.FromSeconds(31), TimeSpan.FromSeconds(30)));

        Assert.Equal(2, pipeline.Snub().Count);
        Assert.Equal(1, pipeline.Room);
        pipeline.Adapt(100L * 1024 * 1024, settled: true);
        Assert.Equal(1, pipeline.Depth);

        pipeline.TryAdd(new BlockRequest(1, 0, 16384), start);
        Assert.Equal(Arrival.Expected, pipeline.Arrive(new BlockRequest(1, 0, 16384)));
        Assert.False(pipeline.IsSnubbed);
        Assert.Equal(Settings.Min, pipeline.Depth);
    }

    [Fact]
    public void Arrivals_are_classified()
    {
        var pipeline = new RequestPipeline(Settings, 16384);
        pipeline.TryAdd(new BlockRequest(0, 0, 16384), TimeSpan.Zero);
        pipeline.TryAdd(new BlockRequest(0, 16384, 16384), TimeSpan.Zero);
        Assert.True(pipeline.Forget(new BlockRequest(0, 16384, 16384)));

        Assert.Equal(Arrival.WrongLength, pipeline.Arrive(new BlockRequest(0, 0, 100)));
        Assert.Equal(Arrival.Expected, pipeline.Arrive(new BlockRequest(0, 0, 16384)));
        Assert.Equal(Arrival.Unrequested, pipeline.Arrive(new BlockRequest(0, 0, 16384)));
        Assert.Equal(Arrival.Late, pipeline.Arrive(new BlockRequest(0, 16384, 16384)));
        Assert.Equal(Arrival.Unrequested, pipeline.Arrive(new BlockRequest(0, 16384, 16384)));
    }

    [Fact]
    public void The_rate_meter_averages_over_its_window_and_forgets_old_data()
    {
        var meter = new RateMeter(TimeSpan.FromSeconds(2), 8, TimeSpan.Zero);
        for (var ms = 0; ms < 2000; ms += 100)
        {
            meter.Add(10_000, TimeSpan.FromMilliseconds(ms));
        }

        Assert.InRange(meter.BytesPerSecond(TimeSpan.FromMilliseconds(1999)), 95_000, 105_000);
        Assert.Equal(0, meter.BytesPerSecond(TimeSpan.FromSeconds(10)));
    }
}
