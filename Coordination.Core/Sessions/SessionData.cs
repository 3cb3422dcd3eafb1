using System.Globalization;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// A session's data on the wire: names checked, values as compact JSON text in fields <c>d:&lt;name&gt;</c>, sizes
/// counted as the scripts count them (UTF-8 bytes of the name plus the value's JSON text), and the hash read back.
/// </summary>
internal static class SessionData
{
    public const int MaxFieldNameLength = 256;

    public const string FieldPrefix = "d:";

    /// <exception cref="ArgumentException">The name is empty, longer than 256 characters, holds a control character or is not valid UTF-8 text.</exception>
    public static void ValidateFieldName(string name, string parameterName)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException("A session field name must not be empty.", parameterName);
        }

        if (name.Length > MaxFieldNameLength)
        {
            throw new ArgumentException($"A session field name must be at most {MaxFieldNameLength} characters; one is {name.Length}.", parameterName);
        }

        if (CoordinationLimits.FindNameProblem(name, "session field name") is { } problem)
        {
            throw new ArgumentException(problem, parameterName);
        }
    }

    /// <summary>The value's compact JSON text.</summary>
    /// <exception cref="ArgumentException">The value is a default <see cref="JsonElement"/> (no JSON at all).</exception>
    public static byte[] Encode(string name, JsonElement value, string parameterName)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException($"The value of session field '{name}' is an undefined JsonElement.", parameterName);
        }

        return JsonSerializer.SerializeToUtf8Bytes(value);
    }

    /// <summary>What a field counts against <see cref="SessionManagerOptions.MaxDataBytes"/>.</summary>
    public static int SizeOf(string name, byte[] value) => Encoding.UTF8.GetByteCount(name) + value.Length;

    /// <summary>Checks and encodes a new session's data as 'd:' field, value pairs.</summary>
    /// <exception cref="ArgumentException">A name is invalid, or the data has more fields or bytes than the options allow.</exception>
    public static List<RedisValue> EncodeAll(IReadOnlyDictionary<string, JsonElement>? data, SessionManagerOptions options, string parameterName)
    {
        var fields = new List<RedisValue>(2 * (data?.Count ?? 0));
        if (data is null)
        {
            return fields;
        }

        if (data.Count > options.MaxFields)
        {
            throw new ArgumentException($"A session holds at most {options.MaxFields} fields (Coordination:Sessions:MaxFields); the data has {data.Count}.", parameterName);
        }

        var bytes = 0L;
        foreach (var (name, value) in data)
        {
            ValidateFieldName(name, parameterName);
            var encoded = Encode(name, value, parameterName);
            bytes += SizeOf(name, encoded);
            fields.Add(FieldPrefix + name);
            fields.Add(encoded);
        }

        ThrowIfTooLarge(bytes, options, parameterName);
        return fields;
    }

    /// <exception cref="ArgumentException"><paramref name="bytes"/> is over <see cref="SessionManagerOptions.MaxDataBytes"/>.</exception>
    public static void ThrowIfTooLarge(long bytes, SessionManagerOptions options, string parameterName)
    {
        if (bytes > options.MaxDataBytes)
        {
            throw new ArgumentException($"A session's data holds at most {options.MaxDataBytes} bytes (Coordination:Sessions:MaxDataBytes); this would be {bytes}.", parameterName);
        }
    }

    /// <summary>A session from its hash (field, value pairs as HGETALL answers them).</summary>
    public static Session Read(string id, RedisResult[] hash) => ReadWithTimes(id, hash, out _).Session;

    /// <summary>A session from its hash, and the schema version its data is in (field <c>s</c>; 1 when absent).</summary>
    public static Session Read(string id, RedisResult[] hash, out int schemaVersion) => ReadWithTimes(id, hash, out schemaVersion).Session;

    /// <summary>The session, and its idle timeout and absolute end (what its durable copy keeps besides).</summary>
    public static (Session Session, TimeSpan IdleTimeout, DateTimeOffset AbsoluteExpiresAt) ReadWithTimes(string id, RedisResult[] hash) => ReadWithTimes(id, hash, out _);

    /// <summary>The session, its idle timeout and absolute end, and the schema version its data is in (field <c>s</c>; 1 when absent).</summary>
    public static (Session Session, TimeSpan IdleTimeout, DateTimeOffset AbsoluteExpiresAt) ReadWithTimes(string id, RedisResult[] hash, out int schemaVersion)
    {
        string? userId = null;
        long created = 0, accessed = 0, idle = 0, absolute = 0, version = 0;
        schemaVersion = 1;
        var data = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < hash.Length; i += 2)
        {
            var field = (string)hash[i]!;
            var value = (RedisValue)hash[i + 1];
            switch (field)
            {
                case "u": userId = value; break;
                case "c": created = Number(value); break;
                case "a": accessed = Number(value); break;
                case "i": idle = Number(value); break;
                case "x": absolute = Number(value); break;
                case "v": version = Number(value); break;
                case "s": schemaVersion = (int)Number(value); break;
                default:
                    if (field.StartsWith(FieldPrefix, StringComparison.Ordinal))
                    {
                        using var document = JsonDocument.Parse((ReadOnlyMemory<byte>)value);
                        data[field[FieldPrefix.Length..]] = document.RootElement.Clone();
                    }

                    break;
            }
        }

        var session = new Session(
            id,
            userId ?? string.Empty,
            data,
            version,
            DateTimeOffset.FromUnixTimeMilliseconds(created),
            DateTimeOffset.FromUnixTimeMilliseconds(accessed),
            DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(accessed + idle, absolute)));
        return (session, TimeSpan.FromMilliseconds(idle), DateTimeOffset.FromUnixTimeMilliseconds(absolute));
    }

    private static long Number(RedisValue value) => long.Parse((string)value!, NumberStyles.Integer, CultureInfo.InvariantCulture);
}
