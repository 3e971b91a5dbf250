using Akka.Actor;
using BitTorrentActors.Engine.Session;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Api.Rpc;

/// <summary>
/// The ids of torrents removed in the last minute: torrent-get's <c>removed</c> for <c>"ids":"recently-active"</c>,
/// as transmission-daemon keeps them (tr_sessionGetRecentlyRemoved, RECENTLY_ACTIVE_SECONDS). Transmission's web UI
/// polls recently-active only, so without this list a removed torrent would stay on its page.
/// The session's <see cref="TorrentSessionActor.TorrentRemoved"/> names a hash, not an id, so the RPC tells this
/// actor every hash-id pair it sees (a Tell per request); an RPC remove records its ids at once. A removal by some
/// other way of a torrent no RPC client ever listed is not recorded: no client has its id.
/// </summary>
public sealed class RemovedTorrentsActor : ReceiveActor
{
    /// <summary>Hash and id of torrents an RPC reply has named.</summary>
    public sealed record Seen(IReadOnlyList<(InfoHash InfoHash, int Id)> Torrents);

    /// <summary>The RPC removed these (at <paramref name="At"/>).</summary>
    public sealed record Removed(IReadOnlyList<int> Ids, DateTimeOffset At);

    /// <summary>Reply: <see cref="RecentlyRemoved"/>.</summary>
    public sealed record GetRecentlyRemoved(DateTimeOffset Now);

    public sealed record RecentlyRemoved(IReadOnlyList<int> Ids);

    /// <summary>Most ids remembered, a bound however fast torrents come and go (each is dropped after a minute anyway).</summary>
    public const int MaxRemembered = 10_000;

    private readonly IActorRef _session;
    private readonly Dictionary<InfoHash, int> _ids = [];
    private readonly Dictionary<int, DateTimeOffset> _removed = [];
    private readonly Func<DateTimeOffset> _clock;

    public RemovedTorrentsActor(IActorRef session, Func<DateTimeOffset>? clock = null)
    {
        _session = session;
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
        Receive<TorrentSessionActor.Subscribed>(_ => { });
        Receive<Seen>(m =>
        {
            foreach (var (hash, id) in m.Torrents)
            {
                if (!_removed.ContainsKey(id) && (_ids.Count < MaxRemembered || _ids.ContainsKey(hash)))
                {
                    _ids[hash] = id;
                }
            }
        });
        Receive<Removed>(m =>
        {
            foreach (var id in m.Ids)
            {
                Remember(id, m.At);
            }
        });
        Receive<TorrentSessionActor.TorrentRemoved>(m =>
        {
            if (_ids.Remove(m.InfoHash, out var id))
            {
                Remember(id, _clock());
            }
        });
        Receive<TorrentSessionActor.ITorrentEvent>(_ => { });
        Receive<GetRecentlyRemoved>(m =>
        {
            Prune(m.Now);
            Sender.Tell(new RecentlyRemoved([.. _removed.Keys.Order()]));
        });
    }

    public static Props Props(IActorRef session, Func<DateTimeOffset>? clock = null) =>
        Akka.Actor.Props.Create(() => new RemovedTorrentsActor(session, clock));

    protected override void PreStart() => _session.Tell(new TorrentSessionActor.Subscribe(Self));

    private void Remember(int id, DateTimeOffset at)
    {
        Prune(at);
        if (_removed.Count < MaxRemembered)
        {
            _removed[id] = at;
        }
        foreach (var hash in _ids.Where(p => p.Value == id).Select(p => p.Key).ToList())
        {
            _ids.Remove(hash);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (id, at) in _removed.Where(p => now - p.Value > TorrentIds.RecentWindow).ToList())
        {
            _removed.Remove(id);
        }
    }
}
