using System.Diagnostics;
using System.Text;

namespace BitTorrentActors.Engine.Tests.Interop;

/// <summary>
/// One running external process with its output captured as it arrives. Disposing kills the whole process tree by
/// PID if it is still running, so a failed test never leaves a seeder or tracker behind.
/// </summary>
public sealed class RealProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal RealProcess(ProcessStartInfo info)
    {
        CommandLine = string.Join(' ', [info.FileName, .. info.ArgumentList.Select(a => a.Contains(' ') ? $"'{a}'" : a)]);
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data, _stdoutClosed);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data, _stderrClosed);
        if (!_process.Start())
        {
            throw new InvalidOperationException($"could not start {CommandLine}");
        }
        Pid = _process.Id;
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string CommandLine { get; }

    public int Pid { get; }

    public bool HasExited => _process.HasExited;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Waits for the process to exit and its output to drain; on timeout kills the tree and fails.</summary>
    public async Task<ProcessResult> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new Xunit.Sdk.XunitException(
                $"{CommandLine} (pid {Pid}) did not finish within {timeout} and was killed\nstdout: {Stdout}\nstderr: {Stderr}");
        }
        return new ProcessResult(CommandLine, _process.ExitCode, Stdout, Stderr);
    }

    /// <summary>Kills the process and all its children, by PID.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Unkillable (D state); nothing more a test can do.
        }
        _process.Dispose();
    }

    private static void Append(StringBuilder buffer, string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        lock (buffer)
        {
            buffer.Append(line).Append('\n');
        }
    }
}
