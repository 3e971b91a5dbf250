namespace BitTorrentActors.Cli.CommandLine;

/// <summary>The command line itself is wrong (unknown command or option, missing argument): exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Bad input or a failure, reported as one line naming the file and the reason: exit code 1.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>Process exit codes of <c>bta</c>.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Cancelled = 130;
}
