namespace BitTorrentActors.Api.Rpc;

internal static class RpcBody
{
    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the stream holds more (nothing beyond
    /// limit + one buffer is ever held).</summary>
    public static async Task<byte[]?> ReadBoundedAsync(Stream stream, int limit, CancellationToken ct)
    {
        using var memory = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await stream.ReadAsync(buffer, ct).ConfigureAwait(false);
            if (read == 0)
            {
                return memory.ToArray();
            }
            if (memory.Length + read > limit)
            {
                return null;
            }
            memory.Write(buffer, 0, read);
        }
    }
}
