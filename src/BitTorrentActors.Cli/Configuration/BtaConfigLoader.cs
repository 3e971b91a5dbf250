using System.Text;
using System.Text.RegularExpressions;
using Akka.Configuration;
using BitTorrentActors.Cli.CommandLine;

namespace BitTorrentActors.Cli.Configuration;

/// <summary>
/// Builds the final HOCON: <c>hocon.conf</c> next to the binary (not the working directory), each overlay file in
/// order (later wins), then command-line overrides. A missing or unparsable file is a <see cref="CliException"/>
/// naming it.
/// </summary>
public static partial class BtaConfigLoader
{
    public const string BaseFileName = "hocon.conf";

    public static Config Load(
        IReadOnlyList<string> overlayFiles,
        IReadOnlyList<KeyValuePair<string, string>> overrides,
        string? baseDirectory = null)
    {
        var directory = baseDirectory ?? AppContext.BaseDirectory;
        var basePath = Path.Combine(directory, BaseFileName);
        if (!File.Exists(basePath))
        {
            throw new CliException($"{basePath}: not found (hocon.conf must sit next to the bta binary)");
        }

        var config = ParseFile(basePath);
        // Every setting has its default in hocon.conf, so a path under bta that it lacks is a misspelling.
        var known = SettingKeys.From(config);
        foreach (var file in overlayFiles)
        {
            var path = ResolveOverlay(file, directory);
            var overlay = ParseFile(path);
            known.CheckKnown(overlay, path);
            config = overlay.WithFallback(config);
        }
        if (overrides.Count > 0)
        {
            config = ParseOverrides(overrides, known).WithFallback(config);
        }
        return config;
    }

    /// <summary>A relative overlay path is read from the working directory, else from next to the binary
    /// (where the config/ profiles are copied).</summary>
    private static string ResolveOverlay(string file, string baseDirectory)
    {
        if (File.Exists(file) || Path.IsPathRooted(file))
        {
            return file;
        }
        var besideBinary = Path.Combine(baseDirectory, file);
        return File.Exists(besideBinary) ? besideBinary : file;
    }

    private static Config ParseFile(string path)
    {
        string text;
        try
        {
            text = ReadBounded(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliException($"{path}: config file not found");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read config file: {OneLine(ex.Message)}");
        }

        try
        {
            // Akka's parser can loop forever on malformed text: it only sees text the guard accepted.
            HoconGuard.Validate(text);
        }
        catch (HoconSyntaxException ex)
        {
            throw new CliException($"{path}:{ex.Line}:{ex.Column}: not valid HOCON: {ex.Reason}");
        }
        try
        {
            return string.IsNullOrWhiteSpace(text) ? Config.Empty : ConfigurationFactory.ParseString(text);
        }
        catch (Exception ex)
        {
            throw new CliException($"{path}: not valid HOCON: {OneLine(ex.Message)}");
        }
    }

    /// <summary>The file's text, refusing one over <see cref="HoconGuard.MaxChars"/> before reading it all
    /// (a config is a few KB; a large file, or one that never ends like /dev/zero, is a mistake).</summary>
    private static string ReadBounded(string path)
    {
        using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        var buffer = new char[HoconGuard.MaxChars + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = reader.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
        }
        if (length > HoconGuard.MaxChars)
        {
            throw new CliException($"{path}: config file is larger than {HoconGuard.MaxChars / 1024} KiB");
        }
        return new string(buffer, 0, length);
    }

    private static Config ParseOverrides(IReadOnlyList<KeyValuePair<string, string>> overrides, SettingKeys known)
    {
        var hocon = new StringBuilder();
        foreach (var (key, value) in overrides)
        {
            if (!SettingPath().IsMatch(key))
            {
                throw new UsageException($"'{key}' is not a setting path (expected e.g. bta.listen-port)");
            }
            known.CheckKnown(key, "--set");
            hocon.Append(key).Append(" = ").Append(Quote(value)).Append('\n');
        }
        return ConfigurationFactory.ParseString(hocon.ToString());
    }

    /// <summary>A HOCON quoted string: overrides are data, never HOCON syntax.</summary>
    private static string Quote(string value)
    {
        var quoted = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => quoted.Append("\\\""),
                '\\' => quoted.Append("\\\\"),
                '\n' => quoted.Append("\\n"),
                '\r' => quoted.Append("\\r"),
                '\t' => quoted.Append("\\t"),
                _ when char.IsControl(c) => quoted.Append($"\\u{(int)c:x4}"),
                _ => quoted.Append(c),
            };
        }
        return quoted.Append('"').ToString();
    }

    internal static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [GeneratedRegex(@"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")]
    private static partial Regex SettingPath();
}
