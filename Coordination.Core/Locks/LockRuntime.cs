using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// What the lock managers of all tenants share on one connection pool: the release subscription with its in-process
/// fan-out, the primary watcher, options, clock, logging and the id of this process. Owned by the container (one per
/// host); it keeps one manager per tenant for callers and one per tenant for the platform's own locks.
/// </summary>
internal sealed class LockRuntime : IPlatformLocks, IAsyncDisposable
{
    private const int TokenBytes = 16;

    [ThreadStatic]
    private static byte[]? t_tokenRandom;

    [ThreadStatic]
    private static int t_tokenNext;

    // Opaque: owners reach other callers (GET /v1/locks/{name}, deadlock cycles), so they carry no machine name or
    // process id. 96 random bits: two processes never draw the same tag.
    private static readonly string ProcessTag = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12));
    private static long _owners;
    private readonly ConcurrentDictionary<string, RedisLockManager> _tenants = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RedisLockManager> _platform = new(StringComparer.Ordinal);
    private int _disposed;

    public LockRuntime(
        RedisExecutor executor,
        CoordinationOptions options,
        RedisClock clock,
        CoordinationEvents events,
        CoordinationMetrics metrics,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        FencingEpochStore? fencingEpochs = null)
    {
        Executor = executor;
        Options = options.Locks;
        MaxLockNamesPerTenant = options.Quotas.MaxLockNamesPerTenant;
        KeyPrefix = options.KeyPrefix;
        Time = time;
        Events = events;
        Metrics = metrics;
        Logger = loggerFactory.CreateLogger<RedisLockManager>();
        Channel = LockKeys.Channel(options.KeyPrefix);
        WaiterLease = LockRules.WaiterLease(Options.RecheckInterval, options.Resilience.AttemptTimeout);
        ReplicaAcknowledgeTimeout = LockRules.ReplicaWait(Options.ReplicaAcknowledgeTimeout, options.Resilience.AttemptTimeout);
        Waiters = new LockWaiters(executor.Pool, Channel, options.Resilience.AttemptTimeout, Logger);
        Primary = new PrimaryWatcher(executor.Pool, options.Resilience.AttemptTimeout, Logger);
        Fencing = new FencingEpochs(fencingEpochs, Primary, executor.Pool, metrics, Logger);
        Clock = clock;
    }

    public RedisExecutor Executor { get; }

    public LockManagerOptions Options { get; }

    /// <summary><see cref="QuotaOptions.MaxLockNamesPerTenant"/>: 0 when there is no quota.</summary>
    public int MaxLockNamesPerTenant { get; }

    public string KeyPrefix { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public string Channel { get; }

    public TimeSpan WaiterLease { get; }

    /// <summary>How long <c>WAIT</c> waits for replicas: the option, capped at half the attempt timeout.</summary>
    public TimeSpan ReplicaAcknowledgeTimeout { get; }

    public LockWaiters Waiters { get; }

    /// <summary>Redis's clock as last read, which completes the expiry times of fast acquisitions.</summary>
    public RedisClock Clock { get; }

    public PrimaryWatcher Primary { get; }

    /// <summary>The fencing epoch tokens are issued in (0 without the PostgreSQL fallback).</summary>
    public FencingEpochs Fencing { get; }

    public CoordinationEvents Events { get; }

    public CoordinationMetrics Metrics { get; }

    /// <summary>The lock manager of <paramref name="tenant"/>'s callers (one per tenant).</summary>
    public RedisLockManager ForTenant(string tenant) =>
        _tenants.GetOrAdd(tenant, static (t, runtime) => new RedisLockManager(t, runtime, LockNamespace.Tenant), this);

    /// <inheritdoc />
    public IDistributedLockManager For(string tenant) =>
        _platform.GetOrAdd(tenant, static (t, runtime) => new RedisLockManager(t, runtime, LockNamespace.Platform), this);

    /// <summary>The holds this process has through handles (tenants' and the platform's) and when the oldest was acquired.</summary>
    public (int Held, long? OldestTimestamp) HeldSummary()
    {
        var held = 0;
        long? oldest = null;
        foreach (var manager in _tenants.Values.Concat(_platform.Values))
        {
            held += manager.HeldCount;
            if (manager.OldestHeldTimestamp() is { } timestamp && (oldest is null || timestamp < oldest))
            {
                oldest = timestamp;
            }
        }

        return (held, oldest);
    }

    /// <summary>Releases every hold taken through handles in this process; returns how many could not be released.</summary>
    public async Task<int> ReleaseAllAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        foreach (var manager in _tenants.Values.Concat(_platform.Values))
        {
            if (manager.HeldCount > 0)
            {
                failures += await manager.ReleaseAllAsync(cancellationToken);
            }
        }

        return failures;
    }

    /// <summary>
    /// A new owner id: this process's random tag (16 base64url characters) and a sequence number, formatted on the
    /// stack: the returned string is the only allocation.
    /// </summary>
    public static string NewOwner() =>
        string.Create(CultureInfo.InvariantCulture, stackalloc char[64], $"{ProcessTag}/{Interlocked.Increment(ref _owners)}");

    /// <summary>A new hold token: 128 random bits from the cryptographic generator, base64url (22 characters).</summary>
    public static string NewToken()
    {
        // One call to the generator per 32 tokens on each thread: a call per token was 3 % of the client's CPU
        // under load. The bits are the same; only the calls are fewer.
        var random = t_tokenRandom ??= new byte[TokenBytes * 32];
        if (t_tokenNext == 0)
        {
            RandomNumberGenerator.Fill(random);
        }

        var token = Base64Url.EncodeToString(random.AsSpan(t_tokenNext, TokenBytes));
        t_tokenNext = (t_tokenNext + TokenBytes) % random.Length;
        return token;
    }

    /// <summary>Lets <paramref name="task"/> (best-effort cleanup) finish in the background; a failure is logged.</summary>
    public void RunInBackground(Task task) => task.LogFailure(Logger, LocksLog.BackgroundCallFailed);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Fencing.Dispose();
        Primary.Dispose();
        await Waiters.DisposeAsync();
    }
}
