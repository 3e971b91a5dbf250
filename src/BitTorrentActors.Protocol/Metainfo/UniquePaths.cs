namespace BitTorrentActors.Protocol.Metainfo;

/// <summary>
/// Makes sanitised file paths unique: two files with one path, or a file whose path is another file's directory,
/// would overwrite each other or fail to create. The later file is renamed "name.1.ext", "name.2.ext", ...
/// A tree of names keeps this linear in the number of path elements, whatever the torrent repeats.
/// </summary>
internal static class UniquePaths
{
    public static void Resolve(List<string[]> paths)
    {
        var root = new Node();
        // Directories first, so a file met before the directory of the same name is still renamed.
        foreach (var path in paths)
        {
            var node = root;
            for (var i = 0; i < path.Length - 1; i++)
            {
                node = node.Child(path[i]);
            }
        }
        foreach (var path in paths)
        {
            var parent = root;
            for (var i = 0; i < path.Length - 1; i++)
            {
                parent = parent.Children![path[i]];
            }
            var name = path[^1];
            if (parent.Children is null || !parent.Children.ContainsKey(name))
            {
                parent.AddFile(name);
                continue;
            }
            path[^1] = parent.NextFreeName(name);
            parent.AddFile(path[^1]);
        }
    }

    private sealed class Node
    {
        private Dictionary<string, int>? _nextSuffix;

        public Dictionary<string, Node>? Children { get; private set; }

        public Node Child(string name)
        {
            Children ??= new(StringComparer.Ordinal);
            if (!Children.TryGetValue(name, out var child))
            {
                child = new Node();
                Children[name] = child;
            }
            return child;
        }

        public void AddFile(string name)
        {
            Children ??= new(StringComparer.Ordinal);
            Children[name] = new Node();
        }

        public string NextFreeName(string name)
        {
            _nextSuffix ??= new(StringComparer.Ordinal);
            // Continue from the last suffix used for this name, so n copies cost O(n) tries, not O(n^2).
            var n = _nextSuffix.GetValueOrDefault(name, 1);
            var (stem, extension) = PathSanitizer.SplitExtension(name);
            if (System.Text.Encoding.UTF8.GetByteCount(extension) > 16)
            {
                // A long tail is not an extension worth keeping; it would leave no room for the stem.
                (stem, extension) = (name, "");
            }
            while (true)
            {
                var suffix = "." + n.ToString(System.Globalization.CultureInfo.InvariantCulture) + extension;
                var budget = PathSanitizer.MaxElementBytes - System.Text.Encoding.UTF8.GetByteCount(suffix);
                var candidate = PathSanitizer.TruncateUtf8(stem, budget) + suffix;
                n++;
                if (!Children!.ContainsKey(candidate))
                {
                    _nextSuffix[name] = n;
                    return candidate;
                }
            }
        }
    }
}
