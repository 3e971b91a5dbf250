using Microsoft.Win32.SafeHandles;

namespace BitTorrentActors.Engine.Storage;

/// <summary>
/// Whether an open handle still is the file at its path: a file deleted (or its folder) while open keeps taking
/// writes into an inode nobody can reach, and a file replaced under the same name hides them just as well, so a
/// writer that trusted its handle would report pieces that are not on disk (issue 17, item 2).
/// </summary>
/// <remarks>
/// On Linux the kernel names each descriptor's file in <c>/proc/self/fd</c>: the path it is reachable under, with
/// " (deleted)" once unlinked. No stat structure is read (its layout differs per architecture and libc): two
/// handles are the same file when both are reachable and the kernel names them the same. Elsewhere only the
/// path's existence is checked, which still catches a deleted file or folder.
/// </remarks>
internal static class FileIdentity
{
    private const string DeletedSuffix = " (deleted)";

    public static bool IsAt(SafeFileHandle handle, string path)
    {
        if (!OperatingSystem.IsLinux() || KernelName(handle) is not { } name)
        {
            return File.Exists(path);
        }
        if (name == path)
        {
            return true;
        }
        if (name.EndsWith(DeletedSuffix, StringComparison.Ordinal))
        {
            return false;
        }
        // Another name: a symlink on the way to the download folder, or the file was moved and something else
        // may sit at the path now. Whatever the path opens must be named the same by the kernel.
        try
        {
            using var current = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return KernelName(current) == name;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string? KernelName(SafeFileHandle handle)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
