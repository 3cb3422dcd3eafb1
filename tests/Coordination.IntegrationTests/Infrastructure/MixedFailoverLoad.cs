using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// The mixed load of the failover availability tests: workers cycling through cache reads (<c>GetAsync</c> and
/// <c>GetOrCreateAsync</c> on a warmed, bounded key set), session gets and updates of pre-created sessions, key/value
/// sets and gets, and lock acquisitions whose holders write to an in-process <see cref="FencedResource"/> with their
/// fencing token, until stopped (at most two minutes). Records every call (kind, start, end, outcome on
/// <see cref="Clock"/>), every acknowledged session update and key/value write, the failures by exception type, and
/// any exception the library's contract does not allow.
/// </summary>
public sealed class MixedFailoverLoad : IAsyncDisposable
{
    /// <summary>What one worker does in turn; the cache reads twice as often as anything else.</summary>
    private static readonly CallKind[] Cycle =
    [
        CallKind.CacheGet, CallKind.SessionGet, CallKind.KeyValueSet, CallKind.CacheGetOrCreate,
        CallKind.SessionUpdate, CallKind.Lock, CallKind.KeyValueGet, CallKind.CacheGet, CallKind.SessionGet,
    ];

    private readonly CancellationTokenSource _stop = new(TimeSpan.FromMinutes(2));
    private readonly IRedisCoordinator _coordinator;
    private readonly MixedLoadShape _shape;
    private readonly Task[] _workers;

    private MixedFailoverLoad(IRedisCoordinator coordinator, MixedLoadShape shape)
    {
        _coordinator = coordinator;
        _shape = shape;
        _workers = [.. Enumerable.Range(0, shape.Workers).Select(w => Task.Run(() => RunAsync(w), CancellationToken.None))];
    }

    public enum CallKind
    {
        CacheGet,
        CacheGetOrCreate,
        SessionGet,
        SessionUpdate,
        KeyValueSet,
        KeyValueGet,
        Lock,
        LockAcknowledged,
    }

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public ConcurrentQueue<MixedCall> Calls { get; } = new();

    /// <summary>Per session, the highest version an acknowledged update returned.</summary>
    public ConcurrentDictionary<string, long> AcknowledgedVersions { get; } = new(StringComparer.Ordinal);

    /// <summary>Per session and worker, the last value the worker's acknowledged updates wrote to its field <c>w{worker}</c>.</summary>
    public ConcurrentDictionary<(string Session, int Worker), int> AcknowledgedFields { get; } = new();

    /// <summary>Every acknowledged session update: session, worker, value written, version answered, start and end.</summary>
    public ConcurrentQueue<(string Session, int Worker, int Value, long Version, TimeSpan Started, TimeSpan Ended)> SessionUpdates { get; } = new();

    /// <summary>Per key/value key, the last value acknowledged and when.</summary>
    public ConcurrentDictionary<string, (int Value, TimeSpan At)> AcknowledgedValues { get; } = new(StringComparer.Ordinal);

    /// <summary>Failures by exception type (and <see cref="UnavailableReason"/>), per call kind.</summary>
    public ConcurrentDictionary<(CallKind Kind, string Failure), int> Failures { get; } = new();

    /// <summary>Cache reads by where the value came from (<see cref="CacheSource"/>, stale or not).</summary>
    public ConcurrentDictionary<string, int> CacheSources { get; } = new(StringComparer.Ordinal);

    /// <summary>Exceptions the contract does not allow (anything but <see cref="CoordinationUnavailableException"/>), and wrong answers.</summary>
    public ConcurrentQueue<Exception> Unexpected { get; } = new();

    public FencedResource Resource { get; } = new();

    public static MixedFailoverLoad Start(IRedisCoordinator coordinator, MixedLoadShape shape) => new(coordinator, shape);

    /// <summary>Sets the cache's keys (so this node's memory level and Redis hold them) and creates the sessions.</summary>
    public static async Task<IReadOnlyList<Session>> PrepareAsync(IRedisCoordinator coordinator, int cacheKeys, int sessions, CancellationToken cancellationToken)
    {
        for (var k = 0; k < cacheKeys; k++)
        {
            await coordinator.Cache.SetAsync(CacheKey(k), k, cancellationToken: cancellationToken);
        }

        var created = new List<Session>(sessions);
        for (var s = 0; s < sessions; s++)
        {
            created.Add(await coordinator.Sessions.CreateAsync($"user-{s % 64}", new Dictionary<string, JsonElement> { ["n"] = JsonSerializer.SerializeToElement(s) }, cancellationToken: cancellationToken));
        }

        return created;
    }

    public static string CacheKey(int k) => $"c-{k}";

    public static string LockName(int n) => $"L{n}";

    public IEnumerable<MixedCall> Of(params CallKind[] kinds) => Calls.Where(c => kinds.Contains(c.Kind));

    /// <summary>Stops the workers and waits for their calls in flight (idempotent).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers).WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(int worker)
    {
        var random = new Random(worker);
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            var kind = Cycle[(i + worker) % Cycle.Length];
            if (kind == CallKind.Lock && i / Cycle.Length % 2 == 1 && _shape.ReplicasToAcknowledge > 0)
            {
                // Every other acquisition of a worker asks for the replicas' acknowledgement (WAIT).
                kind = CallKind.LockAcknowledged;
            }

            var started = Clock.Elapsed;
            bool succeeded;
            string? failure = null;
            try
            {
                succeeded = await CallAsync(kind, worker, i, random);
            }
            catch (CoordinationUnavailableException ex)
            {
                failure = $"{nameof(CoordinationUnavailableException)}({ex.Reason})";
                Failures.AddOrUpdate((kind, failure), 1, static (_, n) => n + 1);
                succeeded = false;
            }
#pragma warning disable CA1031 // Any other exception type breaks the contract: collected and asserted on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex.GetType().Name;
                Failures.AddOrUpdate((kind, failure), 1, static (_, n) => n + 1);
                Unexpected.Enqueue(ex);
                succeeded = false;
            }

            Calls.Enqueue(new MixedCall(kind, started, Clock.Elapsed, succeeded, failure));
            if (!succeeded)
            {
                await Task.Delay(5, CancellationToken.None);
            }
        }
    }

    private async Task<bool> CallAsync(CallKind kind, int worker, int i, Random random)
    {
        var none = CancellationToken.None;
        switch (kind)
        {
            case CallKind.CacheGet:
            {
                var k = random.Next(_shape.CacheKeys);
                var result = await _coordinator.Cache.GetAsync<int>(CacheKey(k), none);
                return CheckCached(result, k);
            }

            case CallKind.CacheGetOrCreate:
            {
                var k = random.Next(_shape.CacheKeys);
                // The factory stands for the application's source of truth, which stays up.
                var result = await _coordinator.Cache.GetOrCreateAsync(CacheKey(k), _ => ValueTask.FromResult(k), cancellationToken: none);
                return CheckCached(result, k);
            }

            case CallKind.SessionGet:
            {
                var session = _shape.Sessions[random.Next(_shape.Sessions.Count)];
                var read = await _coordinator.Sessions.GetAsync(session.Id, none);
                if (read is null)
                {
                    Unexpected.Enqueue(new InvalidOperationException($"session {session.Id} read as absent"));
                    return false;
                }

                return true;
            }

            case CallKind.SessionUpdate:
            {
                var started = Clock.Elapsed;
                var session = _shape.Sessions[random.Next(_shape.Sessions.Count)];
                var updated = await _coordinator.Sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { [$"w{worker}"] = JsonSerializer.SerializeToElement(i) }, cancellationToken: none);
                if (updated is null)
                {
                    Unexpected.Enqueue(new InvalidOperationException($"session {session.Id} updated as absent"));
                    return false;
                }

                AcknowledgedVersions.AddOrUpdate(session.Id, updated.Version, (_, v) => Math.Max(v, updated.Version));
                AcknowledgedFields[(session.Id, worker)] = i;
                SessionUpdates.Enqueue((session.Id, worker, i, updated.Version, started, Clock.Elapsed));
                return true;
            }

            case CallKind.KeyValueSet:
            {
                var key = $"w{worker}-{i % 16}";
                await _coordinator.SetAsync(key, i, cancellationToken: none);
                AcknowledgedValues[key] = (i, Clock.Elapsed);
                return true;
            }

            case CallKind.KeyValueGet:
                await _coordinator.GetAsync<int>($"w{worker}-{random.Next(16)}", none);
                return true;

            case CallKind.Lock or CallKind.LockAcknowledged:
                await LockAsync(worker, i, random, kind == CallKind.LockAcknowledged ? _shape.ReplicasToAcknowledge : 0);
                return true;

            default:
                throw new InvalidOperationException($"unknown call kind {kind}");
        }
    }

    private bool CheckCached(CacheResult<int> result, int k)
    {
        CacheSources.AddOrUpdate(result.HasValue ? $"{result.Source}{(result.IsStale ? " (stale)" : string.Empty)}" : "miss", 1, static (_, n) => n + 1);
        if (result.HasValue && result.Value != k)
        {
            Unexpected.Enqueue(new InvalidOperationException($"cache key {CacheKey(k)} read {result.Value}"));
            return false;
        }

        return result.HasValue;
    }

    /// <summary>
    /// One holder: takes a lock (asking <paramref name="replicas"/> replicas to acknowledge it), writes to the protected resource twice with its fencing token, leaves it, releases. Each acquisition
    /// has an owner of its own, so no hold re-enters another.
    /// </summary>
    private async Task LockAsync(int worker, int i, Random random, int replicas)
    {
        var name = LockName(random.Next(_shape.LockNames));
        var options = new LockOptions
        {
            Owner = $"w{worker}-{i}",
            TimeToLive = TimeSpan.FromSeconds(5),
            WaitTimeout = TimeSpan.FromMilliseconds(50),
            ReplicasToAcknowledge = replicas,
        };
        var handle = await _coordinator.Locks.TryAcquireAsync(name, options, CancellationToken.None);
        if (handle is null)
        {
            return;
        }

        try
        {
            Resource.Enter(name, handle.FencingToken);
            try
            {
                await Task.Yield();
                Resource.Write(name, handle.FencingToken);
            }
            finally
            {
                Resource.Exit(name, handle.FencingToken);
            }
        }
        finally
        {
            await handle.ReleaseAsync(CancellationToken.None);
        }
    }
}

/// <summary>One call of <see cref="MixedFailoverLoad"/>.</summary>
public readonly record struct MixedCall(MixedFailoverLoad.CallKind Kind, TimeSpan Started, TimeSpan Ended, bool Succeeded, string? Failure = null);

/// <summary>The shape of a <see cref="MixedFailoverLoad"/>.</summary>
public sealed record MixedLoadShape(int Workers, int CacheKeys, IReadOnlyList<Session> Sessions, int LockNames, int ReplicasToAcknowledge);

/// <summary>
/// A resource protected by locks, simulated in the process: per lock name it keeps the highest fencing token it
/// accepted and refuses writes with a lower one (a stale holder caught by fencing). Two holders inside at once are an
/// overlap; an overlap is a <b>violation</b> when the holder that entered later has a token not larger than one still
/// inside, since then fencing cannot order them (the resource would refuse the newer holder and keep serving the old).
/// </summary>
public sealed class FencedResource
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Highest, List<long> Inside)> _states = new(StringComparer.Ordinal);
    private readonly HashSet<(string, long)> _issued = [];

    public int Entries { get; private set; }

    public int Overlaps { get; private set; }

    public int Violations { get; private set; }

    /// <summary>Entries whose token was not above the highest accepted (refused: caught by fencing).</summary>
    public int RefusedEntries { get; private set; }

    /// <summary>Writes of a holder still inside refused because a later holder's larger token came in meanwhile.</summary>
    public int RefusedWrites { get; private set; }

    /// <summary>Tokens handed to two acquisitions of the same name (never expected: tokens strictly increase).</summary>
    public int RepeatedTokens { get; private set; }

    public ConcurrentQueue<string> ViolationDetails { get; } = new();

    public void Enter(string name, long token)
    {
        lock (_gate)
        {
            if (!_states.TryGetValue(name, out var state))
            {
                state = (0, []);
            }

            Entries++;
            if (!_issued.Add((name, token)))
            {
                RepeatedTokens++;
            }

            foreach (var other in state.Inside)
            {
                Overlaps++;
                if (token <= other)
                {
                    Violations++;
                    ViolationDetails.Enqueue($"{name}: token {token} entered while {other} was inside");
                }
            }

            if (token <= state.Highest)
            {
                RefusedEntries++;
            }
            else
            {
                state.Highest = token;
            }

            state.Inside.Add(token);
            _states[name] = state;
        }
    }

    public void Write(string name, long token)
    {
        lock (_gate)
        {
            if (token < _states[name].Highest)
            {
                RefusedWrites++;
            }
        }
    }

    public void Exit(string name, long token)
    {
        lock (_gate)
        {
            _states[name].Inside.Remove(token);
        }
    }
}
