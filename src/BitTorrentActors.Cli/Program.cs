using System.Runtime.InteropServices;
using BitTorrentActors.Cli.CommandLine;

namespace BitTorrentActors.Cli;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var stop = new SignalStop(Console.Error);
        var exitCode = await BtaApp.RunAsync(args, Console.Out, Console.Error, stop.Token).ConfigureAwait(false);
        // A command stopped by a signal reports "cancelled" (130); the shell convention is 128 + the signal.
        return exitCode == ExitCodes.Cancelled && stop.ExitCode is { } signalled ? signalled : exitCode;
    }

    /// <summary>
    /// SIGINT (Ctrl-C), SIGTERM and SIGHUP all stop bta the same clean way: the first one cancels the running
    /// command, which announces <c>stopped</c>, flushes the files and saves the resume data (bounded by the
    /// command's stop budget). A second signal during that stop only says it is still stopping: <c>timeout</c>
    /// and terminals often deliver two signals for one Ctrl-C, and the second must not lose the resume data.
    /// A third exits at once with the first signal's code.
    /// </summary>
    private sealed class SignalStop : IDisposable
    {
        private readonly CancellationTokenSource _cancellation = new();
        private readonly TextWriter _stderr;
        private readonly PosixSignalRegistration[] _registrations;
        private int _signals;
        private int _exitCode;

        public SignalStop(TextWriter stderr)
        {
            _stderr = stderr;
            _registrations =
            [
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal),
            ];
        }

        public CancellationToken Token => _cancellation.Token;

        /// <summary>128 + the first signal's number (130 SIGINT, 143 SIGTERM, 129 SIGHUP); null when none came.</summary>
        public int? ExitCode => Volatile.Read(ref _exitCode) is > 0 and var code ? code : null;

        public void Dispose()
        {
            foreach (var registration in _registrations)
            {
                registration.Dispose();
            }
            _cancellation.Dispose();
        }

        private void OnSignal(PosixSignalContext context)
        {
            // Never the runtime's default (terminate at once): bta decides how it ends.
            context.Cancel = true;
            switch (Interlocked.Increment(ref _signals))
            {
                case 1:
                    Volatile.Write(ref _exitCode, ExitCodeFor(context.Signal));
                    // Callbacks run on the thread pool: the signal thread stays free for the next signal.
                    _ = _cancellation.CancelAsync();
                    break;
                case 2:
                    _stderr.WriteLine("bta: still stopping cleanly (saving resume data); signal once more to quit at once");
                    break;
                default:
                    _stderr.WriteLine("bta: quitting at once");
                    _stderr.Flush();
                    Environment.Exit(Volatile.Read(ref _exitCode));
                    break;
            }
        }

        private static int ExitCodeFor(PosixSignal signal) => signal switch
        {
            PosixSignal.SIGINT => 130,
            PosixSignal.SIGTERM => 143,
            PosixSignal.SIGHUP => 129,
            _ => ExitCodes.Cancelled,
        };
    }
}
