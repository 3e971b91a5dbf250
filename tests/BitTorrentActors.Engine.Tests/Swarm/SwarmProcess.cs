using System.Diagnostics;
using System.Text;

namespace BitTorrentActors.Engine.Tests.Swarm;

/// <summary>
/// One external process of a loopback swarm: stdout and stderr captured line by line into an in-memory log, a hard
/// lifetime after which it is killed with its process tree, and killed by PID on Dispose. Never outlives a test.
/// </summary>
public sealed class SwarmProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly StringBuilder _log = new();
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _lifetime;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private SwarmProcess(string name, Process process, TimeSpan lifetime)
    {
        Name = name;
        _process = process;
        _lifetime = new CancellationTokenSource(lifetime);
        _lifetime.Token.Register(() => Kill($"lifetime of {lifetime.TotalSeconds:0}s over"));
    }

    public string Name { get; }

    public int Pid { get; private set; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the process wrote so far, stdout and stderr interleaved as received.</summary>
    public string Log
    {
        get
        {
            lock (_gate)
            {
                return _log.ToString();
            }
        }
    }

    public int LineCount
    {
        get
        {
            lock (_gate)
            {
                return _lines.Count;
            }
        }
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public static SwarmProcess Start(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan lifetime,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        Tools.Require(fileName);
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var swarmProcess = new SwarmProcess(name, process, lifetime);
        process.OutputDataReceived += (_, e) => swarmProcess.Append(e.Data, "");
        process.ErrorDataReceived += (_, e) => swarmProcess.Append(e.Data, "[err] ");
        process.Exited += (_, _) => swarmProcess.Signal();
        swarmProcess.Append($"$ {fileName} {string.Join(' ', info.ArgumentList)}", "", record: false);
        if (!process.Start())
        {
            throw new InvalidOperationException($"{name}: {fileName} did not start");
        }
        swarmProcess.Pid = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return swarmProcess;
    }

    /// <summary>Waits for an output line matching <paramref name="predicate"/> (from line index
    /// <paramref name="fromLine"/> on) and returns it; throws with the log when it times out or the process ends.</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> predicate, TimeSpan timeout, int fromLine = 0)
    {
        using var cts = new CancellationTokenSource(timeout);
        var next = fromLine;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                for (; next < _lines.Count; next++)
                {
                    if (predicate(_lines[next]))
                    {
                        return _lines[next];
                    }
                }
                changed = _changed.Task;
            }
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false); // drains output
                lock (_gate)
                {
                    if (next < _lines.Count)
                    {
                        continue;
                    }
                }
                throw new SwarmException($"{Name} exited with code {_process.ExitCode} before the expected output", this);
            }
            try
            {
                await changed.WaitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new SwarmException($"{Name}: expected output not seen within {timeout.TotalSeconds:0.#}s", this);
            }
        }
    }

    /// <summary>Waits for the process to end by itself; kills it and throws when it takes longer.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill("did not exit in time");
            throw new SwarmException($"{Name} did not exit within {timeout.TotalSeconds:0.#}s", this);
        }
        return _process.ExitCode;
    }

    public void Kill(string reason)
    {
        try
        {
            if (!_process.HasExited)
            {
                Append($"*** killed by the harness (pid {Pid}): {reason}", "", record: false);
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Kill("disposed");
        _process.WaitForExit(5000);
        _lifetime.Dispose();
        _process.Dispose();
    }

    private void Append(string? line, string prefix, bool record = true)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _log.Append(prefix).AppendLine(line);
            if (record)
            {
                _lines.Add(line);
            }
        }
        Signal();
    }

    private void Signal()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        previous.TrySetResult();
    }
}

/// <summary>A harness failure that carries the process log, so the test output shows what the tool said.</summary>
public sealed class SwarmException(string message, SwarmProcess? process = null)
    : Exception(process is null ? message : $"{message}\n--- {process.Name} log ---\n{process.Log}");
