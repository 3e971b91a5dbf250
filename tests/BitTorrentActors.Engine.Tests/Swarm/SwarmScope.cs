namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// What one swarm test starts: its temp folder and every tool process, disposed in reverse order of start (so
/// leechers go before seeders, seeders before the tracker), then the folder.
/// </summary>
public sealed class SwarmScope(string name, TimeSpan lifetime) : IDisposable
{
    private readonly List<IDisposable> _running = [];

    public SwarmTempDir Dir { get; } = new(name);

    /// <summary>Marks a started process (or anything disposable) to be stopped when the test ends.</summary>
    public T Track<T>(T running)
        where T : IDisposable
    {
        _running.Add(running);
        return running;
    }

    /// <summary>Writes the content to a seed folder, starts opentracker, builds the torrent with our
    /// TorrentBuilder and allows its info-hash.</summary>
    public async Task<(Opentracker Tracker, SwarmTorrent Torrent, string SeedRoot)> StartTrackerAsync(SwarmContent content)
    {
        var seedRoot = Dir.Sub("seed");
        content.WriteTo(seedRoot);
        var tracker = Track(await Opentracker.StartAsync(Dir.Path, [], lifetime));
        var torrent = SwarmTorrent.Build(content, Dir.Path, tracker.AnnounceUrl);
        await tracker.AllowAsync(torrent.InfoHash);
        return (tracker, torrent, seedRoot);
    }

    public void Dispose()
    {
        foreach (var running in Enumerable.Reverse(_running))
        {
            running.Dispose();
        }
        Dir.Dispose();
    }
}
