using System.Net;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>A seeding tool on 127.0.0.1 with its own port, bounded in time and killed by PID on Dispose.</summary>
public interface ISwarmSeeder : IDisposable
{
    /// <summary>Tool and port, for messages.</summary>
    string Name { get; }

    /// <summary>127.0.0.1 and the peer port, so a client can also be given the seeder directly.</summary>
    IPEndPoint EndPoint { get; }

    /// <summary>Everything the tool printed, for failure messages.</summary>
    string Log { get; }

    /// <summary>Payload bytes this seeder says it uploaded (fresh: waits for the tool's next report).</summary>
    Task<long> GetUploadedAsync();
}

public static class SwarmSeederExtensions
{
    /// <summary>"name: N bytes" for every seeder, for assertion messages.</summary>
    public static async Task<string> DescribeUploadsAsync(this IEnumerable<ISwarmSeeder> seeders)
    {
        var parts = new List<string>();
        foreach (var seeder in seeders)
        {
            parts.Add($"{seeder.Name}: {await seeder.GetUploadedAsync().ConfigureAwait(false)} bytes");
        }
        return string.Join("; ", parts);
    }
}
