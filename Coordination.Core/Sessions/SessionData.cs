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

    /// <summary>A session from its hash as HGETALL answers it to the client, and the schema version its data is in.</summary>
    public static Session Read(string id, HashEntry[] hash, out int schemaVersion)
    {
        var reader = new HashReader();
        foreach (var entry in hash)
        {
            reader.Add(entry.Name!, entry.Value);
        }

        schemaVersion = reader.SchemaVersion;
        return reader.Build(id).Session;
    }

    /// <summary>The session, and its idle timeout and absolute end (what its durable copy keeps besides).</summary>
    public static (Session Session, TimeSpan IdleTimeout, DateTimeOffset AbsoluteExpiresAt) ReadWithTimes(string id, RedisResult[] hash) => ReadWithTimes(id, hash, out _);

    /// <summary>The session, its idle timeout and absolute end, and the schema version its data is in (field <c>s</c>; 1 when absent).</summary>
    public static (Session Session, TimeSpan IdleTimeout, DateTimeOffset AbsoluteExpiresAt) ReadWithTimes(string id, RedisResult[] hash, out int schemaVersion)
    {
        var reader = new HashReader();
        for (var i = 0; i + 1 < hash.Length; i += 2)
        {
            reader.Add((string)hash[i]!, (RedisValue)hash[i + 1]);
        }

        schemaVersion = reader.SchemaVersion;
        return reader.Build(id);
    }

    /// <summary>A session's hash, field by field.</summary>
    private struct HashReader()
    {
        private readonly Dictionary<string, JsonElement> _data = new(StringComparer.Ordinal);
        private string? _userId;
        private long _created, _accessed, _idle, _absolute, _version;

        /// <summary>The schema version the data is in (field <c>s</c>; 1 when absent).</summary>
        public int SchemaVersion { get; private set; } = 1;

        public void Add(string field, RedisValue value)
        {
            switch (field)
            {
                case "u": _userId = value; break;
                case "c": _created = Number(value); break;
                case "a": _accessed = Number(value); break;
                case "i": _idle = Number(value); break;
                case "x": _absolute = Number(value); break;
                case "v": _version = Number(value); break;
                case "s": SchemaVersion = (int)Number(value); break;
                default:
                    if (field.StartsWith(FieldPrefix, StringComparison.Ordinal))
                    {
                        using var document = JsonDocument.Parse((ReadOnlyMemory<byte>)value);
                        _data[field[FieldPrefix.Length..]] = document.RootElement.Clone();
                    }

                    break;
            }
        }

        public readonly (Session Session, TimeSpan IdleTimeout, DateTimeOffset AbsoluteExpiresAt) Build(string id) => Create(id, _userId, _data, _created, _accessed, _idle, _absolute, _version);
    }

    private static (Session Session, TimeSpan IdleTimeout, DateTimeOffset AbsoluteExpiresAt) Create(
        string id, string? userId, Dictionary<string, JsonElement> data, long created, long accessed, long idle, long absolute, long version)
    {
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
