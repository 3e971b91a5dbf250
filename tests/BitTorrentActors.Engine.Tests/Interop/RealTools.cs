using System.Diagnostics;
using System.Text;

namespace BitTorrentActors.Engine.Tests.Interop;

/// <summary>
/// Runs the real BitTorrent tools Debian packages (mktorrent, transmission-cli, python3-libtorrent, aria2,
/// opentracker) for interop tests: with a timeout, output captured, and the whole process tree killed by PID on
/// timeout or dispose. A missing tool fails the test with the package to install; it is never skipped.
/// </summary>
public static class RealTools
{
    /// <summary>Debian's interpreter: python3-libtorrent is importable only from it, not from a python3 earlier on PATH.</summary>
    public const string DebianPython = "/usr/bin/python3";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    private static readonly Dictionary<string, string> _packages = new(StringComparer.Ordinal)
    {
        ["mktorrent"] = "mktorrent",
        ["transmission-create"] = "transmission-cli",
        ["transmission-show"] = "transmission-cli",
        ["transmission-daemon"] = "transmission-daemon",
        ["aria2c"] = "aria2",
        ["opentracker"] = "opentracker",
        ["python3"] = "python3-libtorrent",
    };

    /// <summary>Full path of <paramref name="tool"/> (searched in /usr/bin, /usr/local/bin, then PATH), or fails
    /// the test naming the Debian package that provides it.</summary>
    public static string Require(string tool)
    {
        if (Path.IsPathRooted(tool))
        {
            return File.Exists(tool) ? tool : throw Missing(tool);
        }
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        var candidates = new[] { "/usr/bin", "/usr/local/bin" }
            .Concat(path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        return candidates.Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists) ?? throw Missing(tool);
    }

    /// <summary>Debian's python3 with libtorrent importable, or a failed test saying what to install.</summary>
    public static async Task<string> RequireLibtorrentPythonAsync()
    {
        var python = Require(DebianPython);
        var probe = await RunAsync(python, ["-c", "import libtorrent; print(libtorrent.__version__)"]);
        Assert.True(
            probe.ExitCode == 0,
            $"{python} cannot import libtorrent: install the Debian package python3-libtorrent (.ci/run does). {probe.Stderr}");
        return python;
    }

    /// <summary>Starts <paramref name="fileName"/>; stdin is closed at once (tools must never wait for input).</summary>
    public static RealProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(Require(fileName))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["LC_ALL"] = "C.UTF-8";
        info.Environment["PYTHONIOENCODING"] = "utf-8";
        return new RealProcess(info);
    }

    /// <summary>Runs a tool to completion and returns its exit code and output; kills it and fails on timeout.</summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        await using var process = Start(fileName, arguments, workingDirectory);
        return await process.WaitForExitAsync(timeout ?? DefaultTimeout);
    }

    /// <summary>Runs a tool and fails the test, showing its output, unless it exits 0.</summary>
    public static async Task<ProcessResult> RunCheckedAsync(
        string fileName, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var result = await RunAsync(fileName, arguments, workingDirectory, timeout);
        Assert.True(result.ExitCode == 0, $"{result.CommandLine} exited {result.ExitCode}\n{result.Stdout}\n{result.Stderr}");
        return result;
    }

    /// <summary>Runs an inline Python script with Debian's python3 (libtorrent available).</summary>
    public static async Task<ProcessResult> RunPythonAsync(string script, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var python = await RequireLibtorrentPythonAsync();
        return await RunCheckedAsync(python, ["-c", script, .. arguments], timeout: timeout);
    }

    private static Exception Missing(string tool)
    {
        var package = _packages.GetValueOrDefault(Path.GetFileName(tool), Path.GetFileName(tool));
        return new Xunit.Sdk.XunitException(
            $"required tool '{tool}' is not installed: install the Debian package '{package}' (.ci/run installs all of them)");
    }
}

public sealed record ProcessResult(string CommandLine, int ExitCode, string Stdout, string Stderr);
