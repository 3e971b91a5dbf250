using System.Net;
using System.Security.Cryptography;
using BitTorrentActors.Protocol.Dht;
using BitTorrentActors.Protocol.Metainfo;

namespace BitTorrentActors.Engine.Dht;

/// <summary>
/// Write tokens for <c>announce_peer</c> (BEP 5): our <c>get_peers</c> answer gives the querier a token, and only
/// an announce that brings it back from the same address is stored, so nobody can announce a third party's
/// address. A token is the first <see cref="TokenLength"/> bytes of SHA-1(secret ‖ address ‖ info-hash); the secret
/// rotates every <see cref="RotationInterval"/> and the previous one is still accepted, so a token lives 5 to 10
/// minutes (BEP 5: "tokens up to ten minutes old are accepted"). The info-hash is in the hash as in libtorrent
/// (<c>node::generate_token</c>), so a token for one torrent does not announce another. Clock-free: every call
/// takes <c>now</c>.
/// </summary>
public sealed class TokenSecrets
{
    public const int TokenLength = 8;
    public const int SecretLength = 20;

    public static readonly TimeSpan RotationInterval = TimeSpan.FromMinutes(5);

    private readonly Action<Span<byte>> _fill;
    private readonly byte[] _current = new byte[SecretLength];
    private readonly byte[] _previous = new byte[SecretLength];
    private TimeSpan _rotatedAt;

    /// <param name="now">The caller's clock now: the first secret's birth.</param>
    /// <param name="fill">Fills a new secret; cryptographic random bytes unless a test passes its own.</param>
    public TokenSecrets(TimeSpan now, Action<Span<byte>>? fill = null)
    {
        _fill = fill ?? RandomNumberGenerator.Fill;
        _fill(_current);
        _fill(_previous);
        _rotatedAt = now;
    }

    public byte[] Issue(IPAddress address, InfoHash infoHash, TimeSpan now)
    {
        Rotate(now);
        var token = new byte[TokenLength];
        Compute(_current, address, infoHash, token);
        return token;
    }

    /// <summary>True for a token we issued to <paramref name="address"/> for <paramref name="infoHash"/> under the current or previous secret.</summary>
    public bool IsValid(ReadOnlySpan<byte> token, IPAddress address, InfoHash infoHash, TimeSpan now)
    {
        Rotate(now);
        if (token.Length != TokenLength)
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[TokenLength];
        Compute(_current, address, infoHash, expected);
        if (CryptographicOperations.FixedTimeEquals(token, expected))
        {
            return true;
        }
        Compute(_previous, address, infoHash, expected);
        return CryptographicOperations.FixedTimeEquals(token, expected);
    }

    private void Rotate(TimeSpan now)
    {
        // After a long silence both secrets are renewed: every token issued before is then too old.
        for (var turns = 0; now - _rotatedAt >= RotationInterval; turns++)
        {
            if (turns == 2)
            {
                _rotatedAt = now;
                break;
            }
            _current.CopyTo(_previous, 0);
            _fill(_current);
            _rotatedAt += RotationInterval;
        }
    }

    private static void Compute(byte[] secret, IPAddress address, InfoHash infoHash, Span<byte> token)
    {
        var normal = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        Span<byte> input = stackalloc byte[SecretLength + 16 + InfoHash.Length];
        secret.CopyTo(input);
        normal.TryWriteBytes(input[SecretLength..], out var written);
        infoHash.CopyTo(input[(SecretLength + written)..]);
        Span<byte> digest = stackalloc byte[20];
        SHA1.HashData(input[..(SecretLength + written + InfoHash.Length)], digest);
        digest[..TokenLength].CopyTo(token);
    }
}
