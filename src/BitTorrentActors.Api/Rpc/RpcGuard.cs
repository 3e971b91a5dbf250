using System.Net;
using System.Security.Cryptography;
using System.Text;
using BitTorrentActors.Engine.Hosting;

namespace BitTorrentActors.Api.Rpc;

/// <summary>
/// The checks Transmission makes before it reads a request: the Host header (a DNS-rebinding guard: localhost and
/// IP literals always pass, other names only when in <c>bta.rpc.host-whitelist</c>, where <c>*</c> matches any
/// run of characters), HTTP Basic auth when a user or password is set, and the CSRF token
/// <c>X-Transmission-Session-Id</c>.
/// </summary>
public sealed class RpcGuard
{
    private readonly RpcSettings _settings;
    private readonly byte[] _expectedCredentials;

    public RpcGuard(RpcSettings settings, string sessionId)
    {
        _settings = settings;
        SessionId = sessionId;
        _expectedCredentials = Encoding.UTF8.GetBytes($"{settings.Username}:{settings.Password}");
    }

    public string SessionId { get; }

    /// <summary>A fresh CSRF token: 48 random characters, as Transmission's.</summary>
    public static string NewSessionId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public bool SessionIdMatches(string? header) =>
        header is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(header), Encoding.ASCII.GetBytes(SessionId));

    /// <summary>True when no credentials are configured or <paramref name="authorization"/> carries them.</summary>
    public bool IsAuthorized(string? authorization)
    {
        if (!_settings.AuthenticationRequired)
        {
            return true;
        }
        const string scheme = "Basic ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        byte[] given;
        try
        {
            given = Convert.FromBase64String(authorization[scheme.Length..].Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(given, _expectedCredentials);
    }

    public bool IsHostAllowed(string? host) => IsHostAllowed(host, _settings.HostWhitelist);

    /// <summary>The Host rule on its own (a missing Host header passes, as HTTP/1.0 clients send none).</summary>
    public static bool IsHostAllowed(string? host, IReadOnlyList<string> whitelist)
    {
        if (string.IsNullOrEmpty(host))
        {
            return true;
        }
        var name = StripPort(host).TrimEnd('.');
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || IPAddress.TryParse(name.Trim('[', ']'), out _))
        {
            return true;
        }
        return whitelist.Any(pattern => Matches(name, pattern.TrimEnd('.')));
    }

    private static string StripPort(string host)
    {
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            return close > 0 ? host[..(close + 1)] : host;
        }
        var colon = host.LastIndexOf(':');
        // More than one colon without brackets is a bare IPv6 literal, not host:port.
        return colon > 0 && host.IndexOf(':', StringComparison.Ordinal) == colon ? host[..colon] : host;
    }

    /// <summary>Case-insensitive match where <c>*</c> stands for any run of characters.</summary>
    internal static bool Matches(string name, string pattern)
    {
        var parts = pattern.Split('*');
        if (parts.Length == 1)
        {
            return name.Equals(pattern, StringComparison.OrdinalIgnoreCase);
        }
        if (!name.StartsWith(parts[0], StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var position = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = name.IndexOf(parts[i], position, StringComparison.OrdinalIgnoreCase);
            if (found < 0)
            {
                return false;
            }
            position = found + parts[i].Length;
        }
        var last = parts[^1];
        return name.Length - position >= last.Length && name.EndsWith(last, StringComparison.OrdinalIgnoreCase);
    }
}
