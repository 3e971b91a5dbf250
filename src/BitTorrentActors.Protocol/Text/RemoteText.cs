using System.Globalization;
using System.Text;

namespace BitTorrentActors.Protocol.Text;

/// <summary>
/// Makes text a remote party chose (a tracker's failure reason or warning, an HTTP reason phrase, a UDP tracker's
/// error) safe to put in a log line or on a terminal: control characters (newlines that would forge log lines,
/// ESC sequences that drive the terminal), Unicode format characters (bidirectional overrides that reorder what is
/// shown) and lone surrogates are escaped as <c>\n</c>, <c>\xNN</c> or <c>\uXXXX</c>, and the result is cut to
/// <see cref="MaxLength"/> characters, ending in "..." when cut (a 1.5 MB reason is not logged on every retry).
/// Sanitising sanitised text changes nothing, so a layer may sanitise again without harm.
/// </summary>
public static class RemoteText
{
    /// <summary>Longest text kept, escapes and the "..." included.</summary>
    public const int MaxLength = 200;

    private const string Cut = "...";

    public static string Sanitize(string? text, int maxLength = MaxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, Cut.Length + 1);
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }
        if (text.Length <= maxLength && IsClean(text))
        {
            return text;
        }

        var output = new StringBuilder(Math.Min(text.Length, maxLength) + 8);
        var budget = maxLength - Cut.Length;
        var fits = 0; // output length at the last character boundary within the budget
        var i = 0;
        for (; i < text.Length && output.Length <= maxLength; i++)
        {
            if (output.Length <= budget)
            {
                fits = output.Length;
            }
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                output.Append(c).Append(text[++i]);
            }
            else if (NeedsEscape(c))
            {
                output.Append(Escape(c));
            }
            else
            {
                output.Append(c);
            }
        }
        if (i == text.Length && output.Length <= maxLength)
        {
            return output.ToString();
        }
        if (output.Length <= budget)
        {
            fits = output.Length;
        }
        return output.ToString(0, fits) + Cut;
    }

    private static bool IsClean(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (NeedsEscape(c))
            {
                return false;
            }
        }
        return true;
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c)
        || char.IsSurrogate(c) // only reached for a lone surrogate
        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator;

    private static string Escape(char c) => c switch
    {
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        < '\u0080' => "\\x" + ((int)c).ToString("X2", CultureInfo.InvariantCulture),
        _ => "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture),
    };
}
