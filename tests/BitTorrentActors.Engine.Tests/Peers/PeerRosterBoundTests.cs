using System.Net;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Torrent;

namespace BitTorrentActors.Engine.Tests.Peers;

/// <summary>What peers can make the roster store and dial: PEX floods (50 a message, from any number of peers).</summary>
public sealed class PeerRosterBoundTests
{
    private static readonly PeerRetrySettings Retry = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), MaxAttempts: 3);

    [Fact]
    public void Ten_thousand_addresses_fifty_at_a_time_stop_at_the_bound()
    {
        var roster = new PeerRoster(Retry, _ => false);
        var added = 0;
        for (var message = 0; message < 200; message++)
        {
            added += roster.Add(Enumerable.Range(message * 50, 50).Select(Address));
        }

        Assert.Equal(PeerRoster.DefaultMaxKnown, added);
        Assert.Equal(PeerRoster.DefaultMaxKnown, roster.Known);
    }

    [Fact]
    public void A_full_roster_takes_new_addresses_again_once_old_ones_are_forgotten()
    {
        var roster = new PeerRoster(Retry, _ => false, maxKnown: 2);
        Assert.Equal(2, roster.Add([Address(1), Address(2), Address(3)]));
        var now = DateTime.UtcNow;

        // Address 1 fails every attempt and is forgotten; dials are bounded by the attempts, not by the addresses offered.
        for (var attempt = 0; attempt < Retry.MaxAttempts; attempt++)
        {
            var taken = roster.TakeCandidates(now.AddHours(attempt), 10);
            Assert.Contains(Address(1), taken);
            foreach (var peer in taken)
            {
                roster.Disconnected(peer, now.AddHours(attempt));
            }
        }

        Assert.Equal(0, roster.Known);
        Assert.Equal(1, roster.Add([Address(3)]));
    }

    private static IPEndPoint Address(int i) => new(new IPAddress([127, 1, (byte)(i >> 8), (byte)i]), 6881);
}
