namespace BitTorrentActors.Cli.Configuration;

/// <summary>
/// Checks HOCON text before Akka's parser sees it. Akka 1.5's parser loops forever with unbounded memory on some
/// malformed text (<c>x = [}</c>, <c>x = [1 }</c>, <c>x = ${</c>), overflows the stack on <c>x = ${x}</c>, hangs on
/// <c>${?name}</c>, and silently accepts much else (<c>bta {</c>, <c>}}}}</c>, <c>x = = 1</c>). This guard accepts a
/// strict subset of HOCON that covers every bta configuration (objects, arrays, quoted, triple-quoted and unquoted
/// strings, value concatenation, <c>a.b.c</c> paths, comments) and reports anything else as a
/// <see cref="HoconSyntaxException"/> with the line and column, so the Akka parser only ever runs on text whose
/// structure is known to be sound. Substitutions, <c>include</c> and <c>+=</c> are refused: bta does not need them,
/// and Akka handles them badly (hang, stack overflow, NullReferenceException, a key named "x +").
/// </summary>
public static class HoconGuard
{
    /// <summary>Largest config text accepted: bta's own hocon.conf is about 5 KB.</summary>
    public const int MaxChars = 1024 * 1024;

    /// <summary>Deepest nesting of objects and arrays accepted (bta's own files nest 3 deep).</summary>
    public const int MaxDepth = 32;

    /// <exception cref="HoconSyntaxException">the text is not in the accepted subset.</exception>
    public static void Validate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxChars)
        {
            throw new HoconSyntaxException(1, 1, $"file is larger than {MaxChars / 1024} KiB");
        }
        new Parser(Lexer.Tokenize(text)).ParseRoot();
    }

    private enum Kind
    {
        OpenBrace,
        CloseBrace,
        OpenBracket,
        CloseBracket,
        Comma,
        Newline,
        Separator,
        Text,
        End,
    }

    private readonly record struct Token(Kind Kind, int Line, int Column, string Text, int Start = 0)
    {
        public int End => Start + Text.Length;

        public string Describe() => Kind switch
        {
            Kind.Newline => "end of line",
            Kind.End => "end of file",
            Kind.Text => $"'{Shorten(Text)}'",
            _ => $"'{Text}'",
        };

        private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
    }

    private static class Lexer
    {
        public static List<Token> Tokenize(string text)
        {
            var tokens = new List<Token>();
            var line = 1;
            var lineStart = 0;
            var i = 0;
            while (i < text.Length)
            {
                var c = text[i];
                var column = i - lineStart + 1;
                if (c == '\n')
                {
                    tokens.Add(new Token(Kind.Newline, line, column, "\n"));
                    i++;
                    line++;
                    lineStart = i;
                }
                else if (c is ' ' or '\t' or '\r' or '\uFEFF' || (char.IsWhiteSpace(c) && c != '\n'))
                {
                    i++;
                }
                else if (c == '#' || (c == '/' && At(text, i + 1) == '/'))
                {
                    while (i < text.Length && text[i] != '\n')
                    {
                        i++;
                    }
                }
                else if (Punctuation(c) is { } kind)
                {
                    tokens.Add(new Token(kind, line, column, c.ToString()));
                    i++;
                }
                else if (c == '"')
                {
                    var start = i;
                    var startLine = line;
                    if (At(text, i + 1) == '"' && At(text, i + 2) == '"')
                    {
                        var close = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                        if (close < 0)
                        {
                            throw new HoconSyntaxException(line, column, "triple-quoted string is never closed");
                        }
                        // The HOCON spec gives quotes right after the closing three to the string; Akka's parser
                        // ends the string at the first three and reads on into a runaway quoted string.
                        i = close + 3;
                        if (At(text, i) == '"')
                        {
                            throw new HoconSyntaxException(line, column, "triple-quoted string ends in more than three quotes");
                        }
                        foreach (var ch in text.AsSpan(start, i - start))
                        {
                            if (ch == '\n')
                            {
                                line++;
                            }
                        }
                        var lastNewline = text.LastIndexOf('\n', i - 1, i - start);
                        if (lastNewline >= 0)
                        {
                            lineStart = lastNewline + 1;
                        }
                    }
                    else
                    {
                        i = QuotedEnd(text, i, line, column, lineStart);
                    }
                    tokens.Add(new Token(Kind.Text, startLine, column, text[start..i], start));
                }
                else
                {
                    var start = i;
                    while (i < text.Length && IsUnquoted(text, i))
                    {
                        i++;
                    }
                    if (i == start)
                    {
                        throw new HoconSyntaxException(line, column, Unexpected(text, i));
                    }
                    tokens.Add(new Token(Kind.Text, line, column, text[start..i], start));
                }
            }
            tokens.Add(new Token(Kind.End, line, text.Length - lineStart + 1, ""));
            return tokens;
        }

        private static Kind? Punctuation(char c) => c switch
        {
            '{' => Kind.OpenBrace,
            '}' => Kind.CloseBrace,
            '[' => Kind.OpenBracket,
            ']' => Kind.CloseBracket,
            ',' => Kind.Comma,
            '=' or ':' => Kind.Separator,
            _ => null,
        };

        /// <summary>Index just past the closing quote of the string opening at <paramref name="open"/>.</summary>
        private static int QuotedEnd(string text, int open, int line, int column, int lineStart)
        {
            var i = open + 1;
            while (true)
            {
                if (i >= text.Length || text[i] == '\n')
                {
                    throw new HoconSyntaxException(line, column, "quoted string is never closed on its line");
                }
                var c = text[i];
                if (c == '"')
                {
                    return i + 1;
                }
                if (c == '\\')
                {
                    var escape = At(text, i + 1);
                    if (escape is '"' or '\\' or '/' or 'b' or 'f' or 'n' or 'r' or 't')
                    {
                        i += 2;
                        continue;
                    }
                    if (escape == 'u' && i + 6 <= text.Length && !text.AsSpan(i + 2, 4).ContainsAnyExcept(HexDigits))
                    {
                        i += 6;
                        continue;
                    }
                    throw new HoconSyntaxException(line, i - lineStart + 1, "invalid escape in quoted string");
                }
                if (char.IsControl(c) && c != '\t')
                {
                    throw new HoconSyntaxException(line, i - lineStart + 1, "control character in quoted string");
                }
                i++;
            }
        }

        private static readonly System.Buffers.SearchValues<char> HexDigits =
            System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

        /// <summary>Characters HOCON forbids in unquoted text (and the start of a comment or of <c>+=</c>).</summary>
        private static bool IsUnquoted(string text, int i)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c == '\uFEFF' || Punctuation(c) is not null)
            {
                return false;
            }
            if (c is '"' or '#' or '$' or '\\' or '?' or '`' or '^' or '!' or '@' or '*' or '&')
            {
                return false;
            }
            return !(c == '/' && At(text, i + 1) == '/') && !(c == '+' && At(text, i + 1) == '=');
        }

        private static string Unexpected(string text, int i)
        {
            var c = text[i];
            return c switch
            {
                '$' when At(text, i + 1) == '{' => "substitutions (${...}) are not supported",
                '+' => "'+=' is not supported",
                _ when char.IsControl(c) => $"unexpected control character U+{(int)c:X4}",
                _ => $"unexpected character '{c}' (quote the value)",
            };
        }

        private static char At(string text, int i) => i < text.Length ? text[i] : '\0';
    }

    /// <summary>Recursive descent over the tokens; nesting is bounded by <see cref="MaxDepth"/>.</summary>
    private sealed class Parser(List<Token> tokens)
    {
        private int _next;

        private Token Peek => tokens[_next];

        public void ParseRoot()
        {
            SkipNewlines();
            if (Peek.Kind == Kind.OpenBrace)
            {
                var open = Take();
                ParseObjectBody(open, depth: 1);
                SkipNewlines();
                if (Peek.Kind != Kind.End)
                {
                    throw Error(Peek, $"unexpected {Peek.Describe()} after the closing '}}' of the root object");
                }
                return;
            }
            ParseObjectBody(open: null, depth: 0);
        }

        /// <summary>Fields until the matching '}' (or the end of the file for the root object without braces).</summary>
        private void ParseObjectBody(Token? open, int depth)
        {
            while (true)
            {
                SkipNewlines();
                var token = Peek;
                switch (token.Kind)
                {
                    case Kind.CloseBrace when open is not null:
                        Take();
                        return;
                    case Kind.CloseBrace:
                        throw Error(token, "'}' without a matching '{'");
                    case Kind.End when open is null:
                        return;
                    case Kind.End:
                        throw Error(open.Value, "'{' is never closed");
                    case Kind.CloseBracket:
                        throw Error(token, open is null ? "']' without a matching '['" : $"']' closes the '{{' at line {open.Value.Line}, column {open.Value.Column}");
                    case Kind.Text:
                        ParseField(depth);
                        break;
                    default:
                        throw Error(token, $"expected a key, found {token.Describe()}");
                }
                // A field ends at a newline, a comma or the object's close.
                var after = Peek;
                if (after.Kind is not (Kind.Newline or Kind.Comma or Kind.CloseBrace or Kind.End))
                {
                    throw Error(after, $"expected a new line or ',' after a value, found {after.Describe()}");
                }
                if (after.Kind == Kind.Comma)
                {
                    Take();
                }
            }
        }

        private void ParseField(int depth)
        {
            var key = Take();
            var pieces = new List<Token> { key };
            // Keys may be several pieces on one line (a."b c".d); a key never spans lines.
            while (Peek.Kind == Kind.Text && Peek.Line == key.Line)
            {
                pieces.Add(Take());
            }
            CheckKey(pieces);
            var token = Peek;
            switch (token.Kind)
            {
                case Kind.OpenBrace:
                    Take();
                    Nest(token, depth, d => ParseObjectBody(token, d));
                    return;
                case Kind.Separator:
                    Take();
                    SkipNewlines();
                    ParseValue(token, depth);
                    return;
                default:
                    throw Error(token, $"expected '=', ':' or '{{' after the key '{key.Text}', found {token.Describe()}");
            }
        }

        /// <summary>One value: scalars, objects or arrays, concatenated on one line (never mixed kinds).</summary>
        private void ParseValue(Token after, int depth)
        {
            Kind? kind = null;
            while (true)
            {
                var token = Peek;
                var part = token.Kind switch
                {
                    Kind.Text => Kind.Text,
                    Kind.OpenBrace => Kind.OpenBrace,
                    Kind.OpenBracket => Kind.OpenBracket,
                    _ => (Kind?)null,
                };
                if (part is null)
                {
                    if (kind is null)
                    {
                        throw Error(token, $"expected a value after '{after.Text}' (line {after.Line}, column {after.Column}), found {token.Describe()}");
                    }
                    if (token.Kind == Kind.Separator)
                    {
                        throw Error(token, $"unexpected '{token.Text}' after a value (quote a value that contains it)");
                    }
                    return;
                }
                if (kind is not null && kind != part)
                {
                    throw Error(token, "cannot join a value with an object or list of another kind");
                }
                kind = part;
                Take();
                if (part == Kind.OpenBrace)
                {
                    Nest(token, depth, d => ParseObjectBody(token, d));
                }
                else if (part == Kind.OpenBracket)
                {
                    Nest(token, depth, d => ParseArrayBody(token, d));
                }
            }
        }

        private void ParseArrayBody(Token open, int depth)
        {
            while (true)
            {
                SkipNewlines();
                var token = Peek;
                switch (token.Kind)
                {
                    case Kind.CloseBracket:
                        Take();
                        return;
                    case Kind.End:
                        throw Error(open, "'[' is never closed");
                    case Kind.CloseBrace:
                        throw Error(token, $"'}}' closes the '[' at line {open.Line}, column {open.Column}");
                    case Kind.Comma or Kind.Separator:
                        throw Error(token, $"expected a list element, found {token.Describe()}");
                }
                ParseValue(open, depth);
                // Elements are separated by a comma or a new line (ParseValue joins those on one line).
                if (Peek.Kind == Kind.Comma)
                {
                    Take();
                }
                else if (Peek.Kind is not (Kind.Newline or Kind.CloseBracket or Kind.End or Kind.CloseBrace))
                {
                    throw Error(Peek, $"expected ',' or ']' in the list, found {Peek.Describe()}");
                }
            }
        }

        private static void Nest(Token open, int depth, Action<int> body)
        {
            if (depth + 1 > MaxDepth)
            {
                throw Error(open, $"nested deeper than {MaxDepth} levels");
            }
            body(depth + 1);
        }

        /// <summary>Every path element of a key is non-empty: Akka's parser hangs on a key ending in '.'
        /// (<c>a. = {...}</c> inside a list).</summary>
        private static void CheckKey(List<Token> pieces)
        {
            var first = pieces[0];
            if (first.Text == "include")
            {
                throw Error(first, "'include' is not supported (pass each file with --config)");
            }
            for (var p = 0; p < pieces.Count; p++)
            {
                var piece = pieces[p];
                if (piece.Text[0] == '"')
                {
                    continue;
                }
                // A dot may only meet a quoted piece it touches ("a."b c"), never nothing or whitespace.
                var dotsOk = !piece.Text.Contains("..", StringComparison.Ordinal)
                    && (!piece.Text.StartsWith('.') || (p > 0 && pieces[p - 1].End == piece.Start && pieces[p - 1].Text[0] == '"'))
                    && (!piece.Text.EndsWith('.') || (p + 1 < pieces.Count && pieces[p + 1].Start == piece.End && pieces[p + 1].Text[0] == '"'));
                if (!dotsOk)
                {
                    throw Error(piece, $"'{piece.Text}' is not a valid key (empty path element)");
                }
            }
        }

        private void SkipNewlines()
        {
            while (Peek.Kind == Kind.Newline)
            {
                _next++;
            }
        }

        private Token Take() => tokens[_next++];

        private static HoconSyntaxException Error(Token at, string message) => new(at.Line, at.Column, message);
    }
}

/// <summary>HOCON text outside what <see cref="HoconGuard"/> accepts, at a 1-based line and column.</summary>
public sealed class HoconSyntaxException(int line, int column, string reason)
    : Exception($"line {line}, column {column}: {reason}")
{
    public int Line { get; } = line;

    public int Column { get; } = column;

    public string Reason { get; } = reason;
}
