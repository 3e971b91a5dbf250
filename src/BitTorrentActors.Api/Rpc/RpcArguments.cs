using System.Text.Json;

namespace BitTorrentActors.Api.Rpc;

/// <summary>An argument the client sent that bta cannot use; its message becomes the reply's <c>result</c>.</summary>
public sealed class RpcArgumentException(string message) : Exception(message);

/// <summary>Typed reads of a request's <c>arguments</c> object. Every wrong type is an
/// <see cref="RpcArgumentException"/> naming the key, never a crash.</summary>
public readonly struct RpcArguments
{
    private readonly JsonElement _arguments;

    public RpcArguments(JsonElement arguments)
    {
        _arguments = arguments;
    }

    public static RpcArguments Empty { get; } = new(default);

    public bool Has(string key) => TryGet(key, out _);

    public bool TryGet(string key, out JsonElement value)
    {
        if (_arguments.ValueKind == JsonValueKind.Object && _arguments.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }
        value = default;
        return false;
    }

    public string? String(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new RpcArgumentException($"argument '{key}' must be a string");
    }

    /// <summary>A boolean; Transmission's clients also send 0/1 for flags.</summary>
    public bool? Bool(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when value.TryGetInt64(out var n) && n is 0 or 1 => n == 1,
            _ => throw new RpcArgumentException($"argument '{key}' must be a boolean"),
        };
    }

    public long? Long(string key, long min = long.MinValue, long max = long.MaxValue)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var n))
        {
            throw new RpcArgumentException($"argument '{key}' must be an integer");
        }
        return n >= min && n <= max ? n : throw new RpcArgumentException($"argument '{key}' must be between {min} and {max}");
    }

    public int? Int(string key, int min = int.MinValue, int max = int.MaxValue) => (int?)Long(key, min, max);

    public double? Double(string key, double min = double.MinValue, double max = double.MaxValue)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var d) || !double.IsFinite(d))
        {
            throw new RpcArgumentException($"argument '{key}' must be a number");
        }
        return d >= min && d <= max ? d : throw new RpcArgumentException($"argument '{key}' must be between {min} and {max}");
    }

    /// <summary>A list of file indices (files-wanted, priority-high ...); null when absent.</summary>
    public IReadOnlyList<int>? Indices(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new RpcArgumentException($"argument '{key}' must be an array of file indices");
        }
        var list = new List<int>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var index) || index < 0)
            {
                throw new RpcArgumentException($"argument '{key}' must be an array of file indices");
            }
            list.Add(index);
        }
        return list;
    }

    /// <summary>A list of strings (fields); null when absent.</summary>
    public IReadOnlyList<string>? Strings(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new RpcArgumentException($"argument '{key}' must be an array of strings");
        }
        var list = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            list.Add(item.ValueKind == JsonValueKind.String
                ? item.GetString()!
                : throw new RpcArgumentException($"argument '{key}' must be an array of strings"));
        }
        return list;
    }
}
