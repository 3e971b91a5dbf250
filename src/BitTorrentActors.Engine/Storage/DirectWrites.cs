using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// Writes that bypass the page cache (Linux <c>O_DIRECT</c>), for the aligned middle of each piece's run in a file.
/// Why (issue 14, on the 2-vCPU Firecracker VM tests/bench/run.sh measures on): the kernel's copy of a buffered
/// write into fresh page-cache pages (<c>copy_folio_from_iter_atomic</c>) was the largest single cost of a
/// download, 0.7-2.5 CPU-s per GiB, for aria2 as for bta, because that VM hands free memory back to its host and
/// every new page then faults on the host. <c>dd bs=1M oflag=direct</c> wrote 1 GiB there with 0.12 s of sys time,
/// against 2.7-2.8 s for <c>dd bs=16k</c> into the page cache; 256 KiB direct writes took 0.32 s, 64 KiB ones
/// 0.96 s (each request is one synchronous round trip), so only runs of at least <see cref="MinBytes"/> go direct.
/// Reads (seeding, the check) stay buffered, on their own handle; durability is unchanged: the same fsync of the
/// file precedes every resume save that claims its pieces.
/// </summary>
internal static class DirectWrites
{
    /// <summary>File offsets, lengths and buffer addresses of a direct write are multiples of this: the page size,
    /// the largest logical block size of a disk, so it suits every file system that accepts O_DIRECT.</summary>
    public const int Alignment = 4096;

    /// <summary>The smallest aligned run written directly; a shorter one goes through the page cache.</summary>
    public const int MinBytes = 256 * 1024;

    /// <summary>The most one direct write call carries (the staging buffer's size): 1 MiB wrote 1 GiB with 0.12 s of
    /// sys time, 4 MiB with 0.10 s.</summary>
    public const int MaxBytes = 1024 * 1024;

    private const int FGetFl = 3;
    private const int FSetFl = 4;

    /// <summary>
    /// A second write handle on <paramref name="path"/> (which exists) with O_DIRECT set, or null where the platform
    /// or the file system has none (tmpfs before Linux 6.6, FUSE, other OSes): those files are written buffered.
    /// </summary>
    public static SafeFileHandle? TryOpen(string path)
    {
        if (!OperatingSystem.IsLinux() || DirectFlag() is not { } flag)
        {
            return null;
        }
        SafeFileHandle? handle = null;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            var fd = (int)handle.DangerousGetHandle();
            var flags = Fcntl(fd, FGetFl, 0);
            if (flags >= 0 && Fcntl(fd, FSetFl, flags | flag) == 0 && (Fcntl(fd, FGetFl, 0) & flag) != 0)
            {
                return handle;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DllNotFoundException
            or EntryPointNotFoundException)
        {
        }
        handle?.Dispose();
        return null;
    }

    /// <summary>The part of [<paramref name="offset"/>, +<paramref name="length"/>) a direct write may take: from
    /// the first aligned offset to the last; empty (Start == End) when that part is under <see cref="MinBytes"/>.</summary>
    public static (long Start, long End) AlignedPart(long offset, long length)
    {
        var start = (offset + Alignment - 1) / Alignment * Alignment;
        var end = (offset + length) / Alignment * Alignment;
        return end - start >= MinBytes ? (start, end) : (start, start);
    }

    // O_DIRECT's value differs by architecture (asm-generic/fcntl.h against the x86 and arm64 headers).
    private static int? DirectFlag() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x4000,
        Architecture.Arm64 or Architecture.Arm => 0x10000,
        _ => null,
    };

    [DllImport("libc.so.6", EntryPoint = "fcntl")]
    private static extern int Fcntl(int fd, int command, int argument);
}

/// <summary>
/// A page-aligned buffer for direct writes: a managed array has no such alignment, so this is a slice of an array on
/// the pinned object heap (never moved), a page longer than the buffer, that starts on a page boundary.
/// </summary>
internal sealed class AlignedBuffer
{
    private readonly byte[] _array;
    private readonly int _start;

    public AlignedBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        _array = GC.AllocateUninitializedArray<byte>(length + DirectWrites.Alignment, pinned: true);
        var pin = GCHandle.Alloc(_array, GCHandleType.Pinned);
        try
        {
            var address = pin.AddrOfPinnedObject();
            _start = (int)((DirectWrites.Alignment - (address % DirectWrites.Alignment)) % DirectWrites.Alignment);
        }
        finally
        {
            pin.Free();
        }
        Length = length;
    }

    public int Length { get; }

    public Memory<byte> Memory => _array.AsMemory(_start, Length);
}

/// <summary>
/// The aligned staging buffers direct writes copy through, shared by the torrents of a session (one each would be
/// a megabyte per torrent: 50 MB for the 50 torrents of tests/bench/scale.sh); a rent past the kept ones allocates,
/// and a return past <c>keep</c> is left to the GC.
/// </summary>
public sealed class StagingBuffers(int keep)
{
    private readonly System.Collections.Concurrent.ConcurrentBag<AlignedBuffer> _free = [];

    internal AlignedBuffer Rent() => _free.TryTake(out var buffer) ? buffer : new AlignedBuffer(DirectWrites.MaxBytes);

    internal void Return(AlignedBuffer buffer)
    {
        if (_free.Count < keep)
        {
            _free.Add(buffer);
        }
    }
}
