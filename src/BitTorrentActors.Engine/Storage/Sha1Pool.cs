using System.Security.Cryptography;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// Reset SHA-1 hashers for the pieces being assembled, reused so a download does not create (and finalise) a native
/// hash object per piece. Owned by one writer actor: no locking.
/// </summary>
internal sealed class Sha1Pool : IDisposable
{
    private readonly Stack<IncrementalHash> _free = new();

    public IncrementalHash Rent() =>
        _free.TryPop(out var hash) ? hash : IncrementalHash.CreateHash(HashAlgorithmName.SHA1);

    /// <summary>Takes back a hasher that is reset (its last call was GetHashAndReset, or it was never fed).</summary>
    public void Return(IncrementalHash hash) => _free.Push(hash);

    public void Dispose()
    {
        while (_free.TryPop(out var hash))
        {
            hash.Dispose();
        }
    }
}
