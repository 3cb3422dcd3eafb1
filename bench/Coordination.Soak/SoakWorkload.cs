using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace Coordination.Soak;

/// <summary>
/// The steady mixed workload of the soak, through one tenant's coordinator. Out of every twelve operations of a caller:
/// key/value 2 GET, 1 SET, 1 DELETE (1,000 keys), 1 lock acquire without waiting + release (the caller's own 8 names, so
/// never contended), cache 2 get-or-create and 1 set (1,000 keys, 1 min TTL so entries expire and are created again),
/// 3 session operations and 1 rate-limit acquire (token bucket far above the run's rate, 256 keys: always allowed).
/// A session operation picks one of the caller's 16 slots: an empty slot gets a new session, a full one is read (3 in
/// 5), updated (1 in 5) or deleted (1 in 5), so at most callers x 16 sessions are live. Every caller-created thing has
/// a bound: keys, lock names, sessions, rate-limit keys.
/// </summary>
/// <remarks>
/// The end-to-end benchmark's mix (bench/Coordination.Benchmarks.EndToEnd/Mix.cs) has no key/value calls, no
/// get-or-create and only session reads, so the soak has its own schedule instead of linking that one.
/// </remarks>
internal sealed class SoakWorkload(IRedisCoordinator coordinator, IRateLimitPolicies policies, int callers)
{
    public const int Keys = 1_000;
    public const int CacheKeys = 1_000;
    public const int LocksPerCaller = 8;
    public const int SessionsPerCaller = 16;
    public const int RateLimitKeys = 256;
    public const string Policy = "soak";

    public const string Describe =
        "out of every twelve operations of a caller: key/value 2 GET, 1 SET (1 h TTL), 1 DELETE over 1,000 keys; " +
        "1 lock acquire without waiting + release (the caller's own 8 names, never contended); " +
        "cache 2 get-or-create (factory on a miss) and 1 set over 1,000 keys, 1 min TTL (entries expire and are created again); " +
        "3 session operations on the caller's 16 slots (empty slot: create; else 3 in 5 get, 1 in 5 update, 1 in 5 delete; at most callers x 16 live); " +
        "1 rate-limit acquire (token bucket of 10,000,000/s over 256 keys: always allowed)";

    private static readonly RateLimitPolicy PolicyDefinition = new()
    {
        Algorithm = RateLimitAlgorithm.TokenBucket,
        Limit = 10_000_000,
        Period = TimeSpan.FromSeconds(1),
        Burst = 10_000_000,
    };

    private static readonly TimeSpan KeyTimeToLive = TimeSpan.FromHours(1);
    private static readonly LockOptions LockOptions = new() { TimeToLive = TimeSpan.FromSeconds(10) };
    private static readonly CacheEntryOptions EntryOptions = new() { TimeToLive = TimeSpan.FromMinutes(1) };

    private static readonly Kind[] Schedule =
    [
        Kind.KvGet, Kind.Session, Kind.CacheGetOrCreate, Kind.KvSet, Kind.RateLimit, Kind.Session,
        Kind.Lock, Kind.KvGet, Kind.CacheSet, Kind.Session, Kind.KvDelete, Kind.CacheGetOrCreate,
    ];

    private static readonly IReadOnlyDictionary<string, JsonElement> SessionData = new Dictionary<string, JsonElement>
    {
        ["cart"] = JsonSerializer.SerializeToElement(3),
        ["theme"] = JsonSerializer.SerializeToElement("dark"),
    };

    private readonly string?[][] _sessions = [.. Enumerable.Range(0, callers).Select(_ => new string?[SessionsPerCaller])];
    private readonly ConcurrentDictionary<string, long> _errorKinds = new(StringComparer.Ordinal);
    private long _operations;
    private long _errors;
    private long _factoryCalls;

    private enum Kind
    {
        KvGet,
        KvSet,
        KvDelete,
        Lock,
        CacheGetOrCreate,
        CacheSet,
        Session,
        RateLimit,
    }

    public long Operations => Interlocked.Read(ref _operations);

    public long Errors => Interlocked.Read(ref _errors);

    public long FactoryCalls => Interlocked.Read(ref _factoryCalls);

    /// <summary>Errors by kind ("what: exception type or outcome"), at most 20 kinds (the rest counted under "other").</summary>
    public IReadOnlyDictionary<string, long> ErrorKinds => _errorKinds;

    public Task PrepareAsync(CancellationToken cancellationToken) => policies.SetAsync(Policy, PolicyDefinition, cancellationToken).AsTask();

    /// <summary>Runs <paramref name="callers"/> callers until <paramref name="cancellationToken"/> is canceled.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(() => CallerAsync(caller, cancellationToken), CancellationToken.None)));

    /// <summary>Deletes the sessions still live, so the run leaves nothing behind but bounded keys with a TTL.</summary>
    public async Task CleanUpAsync(CancellationToken cancellationToken)
    {
        foreach (var id in _sessions.SelectMany(slots => slots).OfType<string>())
        {
            await coordinator.Sessions.DeleteAsync(id, cancellationToken);
        }
    }

    private async Task CallerAsync(int caller, CancellationToken cancellationToken)
    {
        var random = new Random(caller + 1);
        for (long call = 0; !cancellationToken.IsCancellationRequested; call++)
        {
            var kind = Schedule[(int)((call + (caller * 5L)) % Schedule.Length)];
            string? failure;
            try
            {
                failure = await RunAsync(kind, caller, random, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A soak counts every failure of a call and goes on; the kinds are reported.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex.GetType().Name;
            }

            if (failure is null)
            {
                Interlocked.Increment(ref _operations);
            }
            else
            {
                Interlocked.Increment(ref _errors);
                var name = $"{kind}: {failure}";
                _errorKinds.AddOrUpdate(_errorKinds.Count < 20 || _errorKinds.ContainsKey(name) ? name : "other", 1, (_, n) => n + 1);
            }
        }
    }

    private async ValueTask<string?> RunAsync(Kind kind, int caller, Random random, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case Kind.KvGet:
                _ = await coordinator.GetAsync<Item>(Key("kv-", random.Next(Keys)), cancellationToken);
                return null;

            case Kind.KvSet:
            {
                var index = random.Next(Keys);
                await coordinator.SetAsync(Key("kv-", index), Item.For(index), KeyTimeToLive, cancellationToken);
                return null;
            }

            case Kind.KvDelete:
                _ = await coordinator.DeleteAsync(Key("kv-", random.Next(Keys)), cancellationToken);
                return null;

            case Kind.Lock:
            {
                var handle = await coordinator.Locks.TryAcquireAsync(Key($"lock-{caller}-", random.Next(LocksPerCaller)), LockOptions, cancellationToken);
                if (handle is null)
                {
                    return "not acquired";
                }

                await using (handle)
                {
                    await handle.ReleaseAsync(cancellationToken);
                }

                return null;
            }

            case Kind.CacheGetOrCreate:
            {
                var index = random.Next(CacheKeys);
                _ = await coordinator.Cache.GetOrCreateAsync(
                    Key("item-", index),
                    _ =>
                    {
                        Interlocked.Increment(ref _factoryCalls);
                        return ValueTask.FromResult(Item.For(index));
                    },
                    EntryOptions,
                    cancellationToken);
                return null;
            }

            case Kind.CacheSet:
            {
                var index = random.Next(CacheKeys);
                await coordinator.Cache.SetAsync(Key("item-", index), Item.For(index), EntryOptions, cancellationToken);
                return null;
            }

            case Kind.Session:
                return await SessionAsync(caller, random, cancellationToken);

            case Kind.RateLimit:
                var decision = await coordinator.RateLimits.AcquireAsync(Policy, Key("client-", random.Next(RateLimitKeys)), cancellationToken: cancellationToken);
                return decision.Allowed ? null : "refused";

            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    private async ValueTask<string?> SessionAsync(int caller, Random random, CancellationToken cancellationToken)
    {
        var slots = _sessions[caller];
        var slot = random.Next(SessionsPerCaller);
        if (slots[slot] is not { } id)
        {
            slots[slot] = (await coordinator.Sessions.CreateAsync(Key("user-", caller), SessionData, cancellationToken: cancellationToken)).Id;
            return null;
        }

        switch (random.Next(5))
        {
            case 0:
            {
                var patch = new Dictionary<string, JsonElement?> { ["cart"] = JsonSerializer.SerializeToElement(random.Next(100)) };
                return await coordinator.Sessions.UpdateAsync(id, patch, cancellationToken: cancellationToken) is null ? "update: not found" : null;
            }

            case 1:
                slots[slot] = null;
                return await coordinator.Sessions.DeleteAsync(id, cancellationToken) ? null : "delete: not found";

            default:
                return await coordinator.Sessions.GetAsync(id, cancellationToken) is null ? "get: not found" : null;
        }
    }

    private static string Key(string prefix, int index) => string.Create(CultureInfo.InvariantCulture, $"{prefix}{index}");
}

/// <summary>A stored value: a small JSON object (about 70 bytes).</summary>
internal sealed record Item(int Id, string Name, double Price, string[] Tags)
{
    public static Item For(int index) => new(index, string.Create(CultureInfo.InvariantCulture, $"item {index}"), index * 1.5, ["soak", "bench"]);
}
