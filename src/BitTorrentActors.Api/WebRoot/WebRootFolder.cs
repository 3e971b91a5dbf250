using BitTorrentActors.Engine.Hosting;

namespace BitTorrentActors.Api.WebRoot;

/// <summary>
/// The folder of static files served at <c>/transmission/web/</c> (another front-end: Transmission's own web UI from
/// Debian's transmission-common, say), and the one rule that maps a request path into it. A path names a file in
/// the folder or nothing: <c>..</c> and <c>.</c> segments, empty segments, backslashes, NUL and other control
/// characters are refused before the file system is asked, and a symlink anywhere on the way must stay inside the
/// folder (after resolving every link). Folders are never listed; the folder itself is its index.html.
/// </summary>
public sealed class WebRootFolder
{
    /// <summary>transmission-daemon's variable for the folder of its web client (libtransmission/platform.cc,
    /// tr_getWebClientDir).</summary>
    public const string EnvironmentVariable = "TRANSMISSION_WEB_HOME";

    public const string IndexFile = "index.html";

    private readonly string _root;
    private readonly string _rootPrefix;

    private WebRootFolder(string root)
    {
        _root = root;
        _rootPrefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
    }

    /// <summary>The folder's full path with every link resolved.</summary>
    public string Root => _root;

    /// <summary>
    /// The folder to serve: <see cref="EnvironmentVariable"/> when set and not empty, else <c>bta.rpc.web-root</c>;
    /// null when neither names one. The variable wins as it does in transmission-daemon, where it beats every
    /// folder the daemon would otherwise use (and as BTA_LOOPBACK_ONLY beats the configuration files).
    /// </summary>
    /// <exception cref="BtaConfigException">the folder named does not exist or is not absolute.</exception>
    public static WebRootFolder? Resolve(string setting, string? environment)
    {
        var (source, folder) = !string.IsNullOrWhiteSpace(environment)
            ? (EnvironmentVariable, environment.Trim())
            : ("bta.rpc.web-root", setting.Trim());
        if (folder.Length == 0)
        {
            return null;
        }
        if (!Path.IsPathFullyQualified(folder))
        {
            throw new BtaConfigException(source, $"'{folder}' is not an absolute path");
        }
        if (!Directory.Exists(folder))
        {
            throw new BtaConfigException(source, $"no such folder: '{folder}'");
        }
        return new WebRootFolder(RealPath(Path.GetFullPath(folder)));
    }

    /// <summary>The file a request for <paramref name="relative"/> (the decoded URL path after
    /// <c>/transmission/web/</c>) names, or null when it names nothing servable (missing, a folder other than the
    /// root, outside the root by any route).</summary>
    public string? Find(string relative)
    {
        if (!IsSafe(relative))
        {
            return null;
        }
        var current = _root;
        if (relative.Length > 0)
        {
            foreach (var segment in relative.TrimEnd('/').Split('/'))
            {
                current = Path.Combine(current, segment);
                var info = new FileInfo(current);
                if (info.LinkTarget is not null)
                {
                    var target = ResolveLink(info);
                    if (target is null || !Inside(target))
                    {
                        return null;
                    }
                    current = target;
                }
            }
        }
        if (Directory.Exists(current))
        {
            // Only the root stands for its index page; a subfolder is neither listed nor indexed.
            return current == _root ? Find(IndexFile) : null;
        }
        return File.Exists(current) && Inside(current) ? current : null;
    }

    /// <summary>The lexical rule, before any file-system call.</summary>
    internal static bool IsSafe(string relative)
    {
        if (relative.Length == 0)
        {
            return true;
        }
        if (relative.StartsWith('/') || relative.Contains('\\', StringComparison.Ordinal) || relative.Any(char.IsControl)
            || relative.Contains(':', StringComparison.Ordinal))
        {
            return false;
        }
        var segments = relative.EndsWith('/') ? relative[..^1].Split('/') : relative.Split('/');
        return segments.All(s => s.Length > 0 && s != "." && s != "..");
    }

    private bool Inside(string path) => path == _root || path.StartsWith(_rootPrefix, StringComparison.Ordinal);

    private static string? ResolveLink(FileSystemInfo info)
    {
        try
        {
            return info.ResolveLinkTarget(returnFinalTarget: true) is { } target ? RealPath(target.FullName) : null;
        }
        catch (IOException)
        {
            // A link loop or a dangling link: nothing to serve.
            return null;
        }
    }

    /// <summary>The path with every link on it resolved (the root itself may be reached through links).</summary>
    private static string RealPath(string path)
    {
        var root = Path.GetPathRoot(path) ?? "/";
        var current = root;
        foreach (var segment in path[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, segment);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                current = RealPath(target.FullName);
            }
        }
        return current.Length > root.Length ? current.TrimEnd(Path.DirectorySeparatorChar) : current;
    }
}
