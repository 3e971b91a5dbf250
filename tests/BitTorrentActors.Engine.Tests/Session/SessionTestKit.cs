using BitTorrentActors.Engine.Tests.Interop;
using BitTorrentActors.Engine.Tests.TestSupport;

namespace BitTorrentActors.Engine.Tests.Session;

/// <summary>What every session test class has: the shipped hocon.conf with the session test overrides (and any
/// of its own), and a download folder of its own, deleted afterwards.</summary>
public abstract class SessionTestKit(string extraConfig = "")
    : Akka.TestKit.Xunit2.TestKit(TestTorrents.LoadConfig(SessionTorrents.Overrides + "\nakka.loglevel = WARNING\n" + extraConfig))
{
    protected TempDirectory Downloads { get; } = new("bta-session");

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Downloads.Dispose();
        }
    }
}
