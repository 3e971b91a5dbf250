using System.Text;

namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>
/// Turns the path elements a torrent names into ones that are safe to create under a download folder, per element
/// as libtorrent's <c>sanitize_append_path_element</c> does: a hostile torrent is repaired, not refused (libtorrent
/// must load <c>parent_path.torrent</c>), and no result can be absolute or climb out of the folder.
/// </summary>
public static class PathSanitizer
{
    /// <summary>Used for an element list (or a name) that sanitises to nothing.</summary>
    public const string Fallback = "_";

    /// <summary>Bytes of UTF-8 per element; below the 255 most file systems allow, leaving room for suffixes.</summary>
    public const int MaxElementBytes = 240;

    // Longest tail kept as an "extension" when shortening; beyond that it is just part of a long name.
    private const int MaxExtensionBytes = 16;

    private static readonly Encoding _strictUtf8 = Encoding.GetEncoding(
        "utf-8", EncoderFallback.ReplacementFallback, new DecoderReplacementFallback(Fallback));

    private static readonly HashSet<string> _reservedNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    };

    /// <summary>Decodes torrent bytes as UTF-8, each invalid sequence becoming '_' as libtorrent does.</summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> bytes) => _strictUtf8.GetString(bytes);

    /// <summary>Sanitises one element; null when the element is dropped ("", ".", "..", or nothing left).</summary>
    public static string? SanitizeElement(string element)
    {
        if (element is "" or "." or "..")
        {
            return null;
        }
        var builder = new StringBuilder(element.Length);
        // EnumerateRunes yields U+FFFD for a lone surrogate, so even a malformed string gives valid characters.
        foreach (var rune in element.EnumerateRunes())
        {
            if (IsBidiControl(rune.Value))
            {
                // Dropped rather than replaced: they only exist to disguise a name ("exe.txt" shown as "txt.exe").
                continue;
            }
            if (IsInvalidPathChar(rune.Value))
            {
                builder.Append('_');
            }
            else
            {
                builder.Append(rune.ToString());
            }
        }
        var text = TrimTrailingDotsAndSpaces(builder.ToString());
        if (text.Length == 0)
        {
            return null;
        }
        if (IsReservedName(text))
        {
            text = "_" + text;
        }
        return Shorten(text);
    }

    /// <summary>Sanitises an element list; never empty, never containing "", "." or "..".</summary>
    public static IReadOnlyList<string> SanitizeElements(IEnumerable<string> elements)
    {
        var result = new List<string>();
        foreach (var element in elements)
        {
            if (SanitizeElement(element) is { } clean)
            {
                result.Add(clean);
            }
        }
        if (result.Count == 0)
        {
            result.Add(Fallback);
        }
        return result;
    }

    /// <summary>The torrent name is one element: separators inside it are replaced, never followed.</summary>
    public static string SanitizeName(string name) => SanitizeElement(name) ?? Fallback;

    /// <summary>
    /// True when <paramref name="candidate"/> (relative paths resolve against <paramref name="root"/>) names
    /// something strictly under <paramref name="root"/> once both are made absolute. Engine code calls this as a
    /// last check before creating a file, whatever produced the path.
    /// </summary>
    public static bool IsInside(string root, string candidate)
    {
        var fullRoot = Path.GetFullPath(root);
        var full = Path.GetFullPath(candidate, fullRoot);
        var prefix = Path.EndsInDirectorySeparator(fullRoot) ? fullRoot : fullRoot + Path.DirectorySeparatorChar;
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
            ? StringComparison.OrdinalIgnoreCase
            : StringComparison.Ordinal;
        return full.Length > prefix.Length && full.StartsWith(prefix, comparison);
    }

    /// <summary>The full path of a sanitised relative path under root, or null when it would not be inside.</summary>
    public static string? ResolveUnder(string root, string relativePath)
    {
        var full = Path.GetFullPath(relativePath.Replace('/', Path.DirectorySeparatorChar), Path.GetFullPath(root));
        return IsInside(root, full) ? full : null;
    }

    /// <summary>Shortens to <see cref="MaxElementBytes"/> of UTF-8, keeping a short extension.</summary>
    internal static string Shorten(string element, int maxBytes = MaxElementBytes)
    {
        if (Encoding.UTF8.GetByteCount(element) <= maxBytes)
        {
            return element;
        }
        var (stem, extension) = SplitExtension(element);
        if (Encoding.UTF8.GetByteCount(extension) > MaxExtensionBytes)
        {
            (stem, extension) = (element, "");
        }
        return TruncateUtf8(stem, maxBytes - Encoding.UTF8.GetByteCount(extension)) + extension;
    }

    /// <summary>Splits "name.ext" at the last dot; a leading dot (".bashrc") is not an extension.</summary>
    internal static (string Stem, string Extension) SplitExtension(string element)
    {
        var dot = element.LastIndexOf('.');
        return dot > 0 ? (element[..dot], element[dot..]) : (element, "");
    }

    /// <summary>Cuts at a whole code point so the result stays valid UTF-8 within maxBytes.</summary>
    internal static string TruncateUtf8(string text, int maxBytes)
    {
        var builder = new StringBuilder();
        var used = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            used += rune.Utf8SequenceLength;
            if (used > maxBytes)
            {
                break;
            }
            builder.Append(rune.ToString());
        }
        return builder.ToString();
    }

    private static bool IsInvalidPathChar(int c) =>
        c < 0x20 || c is 0x7F or (>= 0x80 and <= 0x9F)
        // Separators would split the element; the rest are refused by Windows, so a download made on one
        // system can be moved to another.
        || c is '/' or '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|';

    private static bool IsBidiControl(int c) =>
        c is 0x200E or 0x200F or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069);

    // Windows silently strips these, so "a." and "a" would be one file there.
    private static string TrimTrailingDotsAndSpaces(string text) => text.TrimEnd('.', ' ');

    private static bool IsReservedName(string element)
    {
        // "CON", "con.txt" and "CON .tar.gz" all open the console device on Windows.
        var dot = element.IndexOf('.');
        var stem = (dot >= 0 ? element[..dot] : element).TrimEnd(' ');
        return _reservedNames.Contains(stem);
    }
}
