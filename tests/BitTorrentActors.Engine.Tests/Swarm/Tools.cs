using System.Net;
using System.Net.Sockets;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>Where the real tools live, checked up front so a missing one fails with a clear message.</summary>
public static class Tools
{
    public const string Opentracker = "/usr/bin/opentracker";
    public const string Aria2 = "/usr/bin/aria2c";
    public const string TransmissionDaemon = "/usr/bin/transmission-daemon";
    public const string TransmissionRemote = "/usr/bin/transmission-remote";

    /// <summary>Debian's python: the only one that can import python3-libtorrent.</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly Dictionary<string, string> Packages = new()
    {
        [Opentracker] = "opentracker",
        [Aria2] = "aria2",
        [TransmissionDaemon] = "transmission-daemon",
        [TransmissionRemote] = "transmission-cli",
        [Python] = "python3 and python3-libtorrent",
    };

    public static void Require(string path)
    {
        if (Path.IsPathRooted(path) && !File.Exists(path))
        {
            var package = Packages.GetValueOrDefault(path, "the package that provides it");
            throw new SwarmException($"{path} is not installed: this swarm test needs it (apt-get install {package})");
        }
    }
}

/// <summary>Free loopback ports below the ephemeral range, never handed out twice in one test run.</summary>
public static class LoopbackPorts
{
    private static readonly HashSet<int> Used = [];
    private static readonly Lock Gate = new();

    public static IPAddress Address => IPAddress.Loopback;

    /// <summary>A port free for both TCP and UDP on 127.0.0.1, in 20000-32000 (below the ephemeral range).</summary>
    public static int Next()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var port = Random.Shared.Next(20000, 32000);
                if (Used.Contains(port) || !IsFree(port))
                {
                    continue;
                }
                Used.Add(port);
                return port;
            }
        }
        throw new SwarmException("no free loopback port found in 20000-32000");
    }

    private static bool IsFree(int port)
    {
        try
        {
            var tcp = new TcpListener(IPAddress.Loopback, port);
            tcp.Start();
            tcp.Stop();
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>A temporary folder deleted on Dispose.</summary>
public sealed class SwarmTempDir : IDisposable
{
    public SwarmTempDir(string label)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"bta-swarm-{label}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name)
    {
        var sub = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(sub);
        return sub;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // a killed tool may still hold a file for a moment; the OS temp cleaner gets it
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
