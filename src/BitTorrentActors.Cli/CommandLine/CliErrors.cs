namespace BitTorrentActors.Cli.CommandLine;

/// <summary>The command line itself is wrong (unknown command or option, missing argument): exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Bad input or a failure, reported as one line naming the file and the reason: exit code 1 unless a
/// more precise one of <see cref="ExitCodes"/> applies.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Process exit codes of <c>bta</c>, documented in the README (Usage, exit codes).</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Bad input (missing or invalid torrent, bad setting) or a failure with no code of its own.</summary>
    public const int Failure = 1;

    public const int Usage = 2;

    /// <summary>The output or data folder cannot be created or written (permission denied, read-only, a file).</summary>
    public const int FolderUnusable = 3;

    /// <summary>The disk filled up while writing.</summary>
    public const int DiskFull = 4;

    /// <summary>Stopped by Ctrl-C before the download finished (128 + SIGINT; 143 for SIGTERM, 129 for SIGHUP).</summary>
    public const int Cancelled = 130;

    /// <summary>The exit code for a torrent failure reason from the engine (its disk errors carry the OS message).</summary>
    public static int ForFailure(string reason)
    {
        if (reason.Contains("No space left", StringComparison.OrdinalIgnoreCase)
            || reason.Contains("disk full", StringComparison.OrdinalIgnoreCase)
            || reason.Contains("Disk quota", StringComparison.OrdinalIgnoreCase))
        {
            return DiskFull;
        }
        return reason.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase)
            || reason.Contains("Permission denied", StringComparison.OrdinalIgnoreCase)
            || reason.Contains("Access to the path", StringComparison.OrdinalIgnoreCase)
            ? FolderUnusable
            : Failure;
    }
}
