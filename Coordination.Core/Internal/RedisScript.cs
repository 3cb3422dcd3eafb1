using System.Reflection;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// A Lua script embedded in the assembly. The client sends it as EVALSHA once the server knows it and
/// re-sends the source when the server answers NOSCRIPT (after a restart or SCRIPT FLUSH).
/// </summary>
internal sealed class RedisScript
{
    public static readonly RedisScript LockAcquire = Load("lock_acquire");
    public static readonly RedisScript LockRelease = Load("lock_release");
    public static readonly RedisScript GetWithTtl = Load("get_with_ttl");

    private RedisScript(string name, string source)
    {
        Name = name;
        Source = source;
    }

    public string Name { get; }

    public string Source { get; }

    public Task<RedisResult> EvaluateAsync(IDatabase database, RedisKey[] keys, RedisValue[] arguments) =>
        database.ScriptEvaluateAsync(Source, keys, arguments);

    private static RedisScript Load(string name)
    {
        var resource = $"Coordination.Scripts.{name}.lua";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The script resource '{resource}' is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return new RedisScript(name, reader.ReadToEnd());
    }
}
