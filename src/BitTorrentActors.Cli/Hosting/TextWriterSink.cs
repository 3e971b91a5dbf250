using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace BitTorrentActors.Cli.Hosting;

/// <summary>Writes formatted log events to a caller's <see cref="TextWriter"/> (tests pass their own stderr).</summary>
internal sealed class TextWriterSink(TextWriter writer, ITextFormatter formatter) : ILogEventSink
{
    private readonly Lock _lock = new();

    public void Emit(LogEvent logEvent)
    {
        lock (_lock)
        {
            formatter.Format(logEvent, writer);
            writer.Flush();
        }
    }
}
