using System.Net;
using BitTorrentActors.Protocol.Dht;

namespace BitTorrentActors.Engine.Dht;

/// <summary>
/// Our external address as the nodes that answer us see it (the <c>ip</c> of a KRPC response, BEP 42), decided
/// as libtorrent's ip_voter does it, conservatively: one vote per responding address (its latest), local addresses
/// (loopback, private, link-local: BEP 42's exemptions) never counted, and an address agreed only once at least
/// <see cref="MinVotes"/> votes are in and it holds a strict majority of them (libtorrent's ip_voter likewise only
/// changes the address when the leader clearly beats the runner-up, to avoid flapping). At most <see cref="MaxVoters"/>
/// voters are remembered (the oldest is forgotten), so memory is bounded whatever the network sends. A plain class
/// owned by the DHT actor.
/// </summary>
public sealed class ExternalAddressVoter(int minVotes = 4, int maxVoters = 50)
{
    private readonly Dictionary<IPAddress, IPAddress> _votes = [];
    private readonly Queue<IPAddress> _voters = new();

    public int MinVotes { get; } = minVotes;

    public int MaxVoters { get; } = maxVoters;

    /// <summary>The address agreed on; null until a majority of enough voters named one.</summary>
    public IPAddress? Agreed { get; private set; }

    public int Votes => _votes.Count;

    /// <summary>Counts <paramref name="voter"/>'s claim that we are <paramref name="external"/>; true when that
    /// changed <see cref="Agreed"/>.</summary>
    public bool Vote(IPAddress voter, IPAddress external)
    {
        voter = Normalise(voter);
        external = Normalise(external);
        if (NodeIdSecurity.IsExempt(external) || external.Equals(IPAddress.Any) || external.Equals(IPAddress.IPv6Any))
        {
            return false;
        }
        if (!_votes.ContainsKey(voter))
        {
            if (_voters.Count >= MaxVoters)
            {
                _votes.Remove(_voters.Dequeue());
            }
            _voters.Enqueue(voter);
        }
        _votes[voter] = external;
        if (_votes.Count < MinVotes)
        {
            return false;
        }
        var leader = _votes.Values.GroupBy(a => a).OrderByDescending(g => g.Count()).First();
        if (leader.Count() * 2 <= _votes.Count || leader.Key.Equals(Agreed))
        {
            return false;
        }
        Agreed = leader.Key;
        return true;
    }

    private static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
