using System.Net;
using System.Security.Cryptography;
using BitTorrentActors.Engine.Dht;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Dht.DhtIds;

namespace BitTorrentActors.Engine.Tests.Dht;

public class TokenSecretsTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromHours(3);
    private static readonly IPAddress Peer = IPAddress.Parse("127.0.0.7");
    private static readonly InfoHash Hash = new(Enumerable.Repeat((byte)0xab, 20).ToArray());

    [Fact]
    public void A_token_is_8_bytes_of_SHA1_of_secret_address_and_info_hash()
    {
        byte next = 0;
        var secrets = new TokenSecrets(T0, span => span.Fill(++next));

        var token = secrets.Issue(Peer, Hash, T0);

        // The first secret filled is the current one: twenty 0x01 bytes.
        var expected = SHA1.HashData([.. Enumerable.Repeat((byte)1, 20), 127, 0, 0, 7, .. Hash.ToArray()])[..8];
        Assert.Equal(expected, token);
        Assert.True(secrets.IsValid(token, IPAddress.Parse("::ffff:127.0.0.7"), Hash, T0));
    }

    [Fact]
    public void A_token_is_accepted_only_from_its_address_for_its_info_hash()
    {
        var secrets = new TokenSecrets(T0);
        var token = secrets.Issue(Peer, Hash, T0);

        Assert.True(secrets.IsValid(token, Peer, Hash, T0 + TimeSpan.FromSeconds(1)));
        Assert.False(secrets.IsValid(token, IPAddress.Parse("127.0.0.8"), Hash, T0));
        Assert.False(secrets.IsValid(token, Peer, new InfoHash(new byte[20]), T0));
        Assert.False(secrets.IsValid(token[..7], Peer, Hash, T0));
        Assert.False(secrets.IsValid([], Peer, Hash, T0));
        var tampered = (byte[])token.Clone();
        tampered[0] ^= 1;
        Assert.False(secrets.IsValid(tampered, Peer, Hash, T0));
    }

    [Fact]
    public void A_token_lives_through_one_rotation_and_not_two()
    {
        var secrets = new TokenSecrets(T0);
        var early = secrets.Issue(Peer, Hash, T0);
        var late = secrets.Issue(Peer, Hash, T0 + Minutes(4.9));

        Assert.True(secrets.IsValid(early, Peer, Hash, T0 + Minutes(5)));
        Assert.True(secrets.IsValid(early, Peer, Hash, T0 + Minutes(9.9)));
        Assert.True(secrets.IsValid(late, Peer, Hash, T0 + Minutes(9.9)));
        Assert.False(secrets.IsValid(early, Peer, Hash, T0 + Minutes(10)));
        Assert.False(secrets.IsValid(late, Peer, Hash, T0 + Minutes(10)));
        // A token issued now is good, and differs from the stale ones.
        var fresh = secrets.Issue(Peer, Hash, T0 + Minutes(10));
        Assert.NotEqual(early, fresh);
        Assert.True(secrets.IsValid(fresh, Peer, Hash, T0 + Minutes(10)));
    }

    [Fact]
    public void After_a_long_silence_every_old_token_is_stale()
    {
        var secrets = new TokenSecrets(T0);
        var token = secrets.Issue(Peer, Hash, T0 + Minutes(4));

        Assert.False(secrets.IsValid(token, Peer, Hash, T0 + TimeSpan.FromHours(5)));
        var fresh = secrets.Issue(Peer, Hash, T0 + TimeSpan.FromHours(5));
        Assert.True(secrets.IsValid(fresh, Peer, Hash, T0 + TimeSpan.FromHours(5) + Minutes(9)));
        Assert.False(secrets.IsValid(fresh, Peer, Hash, T0 + TimeSpan.FromHours(5) + Minutes(10)));
    }
}
