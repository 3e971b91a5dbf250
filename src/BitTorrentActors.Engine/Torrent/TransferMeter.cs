using System.Diagnostics;

namespace BitTorrentActors.Engine.Torrent;

/// <summary>
/// Totals and rates from the peers' batched transfer reports. Rates are smoothed over a few seconds so the
/// console shows a steady number rather than per-tick noise.
/// </summary>
internal sealed class TransferMeter
{
    private const double Smoothing = 0.4;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastSample;
    private long _downloadedAtSample;
    private long _uploadedAtSample;
    private double _downloadRate;
    private double _uploadRate;

    public long Downloaded { get; private set; }
    public long Uploaded { get; private set; }
    public long DownloadRate => (long)_downloadRate;
    public long UploadRate => (long)_uploadRate;

    public void Add(long downloaded, long uploaded)
    {
        Downloaded += downloaded;
        Uploaded += uploaded;
    }

    public void Sample()
    {
        var now = _clock.Elapsed;
        var seconds = (now - _lastSample).TotalSeconds;
        if (seconds < 0.05)
        {
            return;
        }
        _downloadRate = Blend(_downloadRate, (Downloaded - _downloadedAtSample) / seconds);
        _uploadRate = Blend(_uploadRate, (Uploaded - _uploadedAtSample) / seconds);
        _downloadedAtSample = Downloaded;
        _uploadedAtSample = Uploaded;
        _lastSample = now;
    }

    private static double Blend(double previous, double current) => previous == 0 ? current : previous + Smoothing * (current - previous);
}
