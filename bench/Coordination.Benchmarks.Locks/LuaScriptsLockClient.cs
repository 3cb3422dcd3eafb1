using System.Security.Cryptography;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// A diagnostic: our own lock_fast_acquire.lua and lock_fast_release.lua (the scripts an uncontended TryAcquireAsync
/// and its release run), read from Coordination.Core's embedded resources and run through a plain multiplexer with
/// the same arguments. What ours costs beyond
/// this is client-side (owner and re-entry bookkeeping, the resilience pipeline, metrics, tracing, the hold object).
/// </summary>
/// <remarks>Tied to the scripts' KEYS/ARGV layout, which is internal: <see cref="TryCreate"/> returns null when the resources are not there.</remarks>
internal sealed class LuaScriptsLockClient : ILockClient
{
    private readonly IDatabase _database;
    private readonly string _acquire;
    private readonly string _release;
    private readonly long _timeToLiveMilliseconds;

    private LuaScriptsLockClient(IConnectionMultiplexer multiplexer, string acquire, string release, TimeSpan timeToLive)
    {
        _database = multiplexer.GetDatabase();
        _acquire = acquire;
        _release = release;
        _timeToLiveMilliseconds = (long)timeToLive.TotalMilliseconds;
    }

    public string Name => "ours' Lua scripts via raw StackExchange.Redis (diagnostic)";

    public string Description =>
        "our `lock_fast_acquire.lua` and `lock_fast_release.lua` (from Coordination.Core's embedded resources) through `IDatabase.ScriptEvaluateAsync(string script, ...)` as ours calls it, " +
        "with the arguments an uncontended `TryAcquireAsync` sends: the Redis-side cost of ours without any of its client-side work.";

    public static LuaScriptsLockClient? TryCreate(IConnectionMultiplexer multiplexer, TimeSpan timeToLive)
    {
        var assembly = typeof(IDistributedLockManager).Assembly;
        string? Read(string name)
        {
            using var stream = assembly.GetManifestResourceStream($"Coordination.Scripts.{name}.lua");
            if (stream is null)
            {
                return null;
            }

            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }

        return Read("lock_fast_acquire") is { } acquire && Read("lock_fast_release") is { } release
            ? new LuaScriptsLockClient(multiplexer, acquire, release, timeToLive)
            : null;
    }

    public async ValueTask<IAsyncDisposable?> TryAcquireAsync(string name, CancellationToken cancellationToken)
    {
        // The key layout of LockKeys: the holds and the fencing counter.
        var lockKey = "lockbench-lua:default:lock:{" + name + "}";
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

        // The hold "token|owner", ttl ms.
        var hold = token + "|lockbench-owner";
        // Taken: one integer (fencing token and the expiry's low bits) or, from 2^32 tokens on, an array; refused: 0.
        var result = await _database.ScriptEvaluateAsync(_acquire, [lockKey, lockKey + ":fence"], [hold, _timeToLiveMilliseconds]);
        return result.Resp2Type == ResultType.Array || (long)result != 0 ? new Handle(this, lockKey, hold) : null;
    }

    public ValueTask<IAsyncDisposable?> AcquireAsync(string name, TimeSpan wait, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Diagnostic client: uncontended only.");

    private sealed class Handle(LuaScriptsLockClient client, RedisKey lockKey, string hold) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() =>
            await client._database.ScriptEvaluateAsync(client._release, [lockKey], [hold]);
    }
}
