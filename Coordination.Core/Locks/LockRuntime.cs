using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination;

/// <summary>
/// What the lock managers of all tenants share on one connection pool: the release subscription with its in-process
/// fan-out, the primary watcher, options, clock, logging and the id of this process.
/// </summary>
internal sealed class LockRuntime : IAsyncDisposable
{
    private static readonly ConditionalWeakTable<RedisExecutor, LockRuntime> ByExecutor = [];
    private const int TokenBytes = 16;

    [ThreadStatic]
    private static byte[]? t_tokenRandom;

    [ThreadStatic]
    private static int t_tokenNext;

    private static readonly string ProcessTag = $"{Environment.MachineName}/{Environment.ProcessId}/{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
    private static long _owners;
    private int _disposed;

    public LockRuntime(RedisExecutor executor, CoordinationOptions options, TimeProvider time, ILoggerFactory loggerFactory)
    {
        Executor = executor;
        Options = options.Locks;
        KeyPrefix = options.KeyPrefix;
        Time = time;
        Logger = loggerFactory.CreateLogger<RedisLockManager>();
        Channel = LockKeys.Channel(options.KeyPrefix);
        WaiterLease = LockRules.WaiterLease(Options.RecheckInterval, options.Resilience.AttemptTimeout);
        ReplicaAcknowledgeTimeout = LockRules.ReplicaWait(Options.ReplicaAcknowledgeTimeout, options.Resilience.AttemptTimeout);
        Waiters = new LockWaiters(executor.Pool, Channel, options.Resilience.AttemptTimeout, Logger);
        Primary = new PrimaryWatcher(executor.Pool, options.Resilience.AttemptTimeout, Logger);
        Clock = new RedisClock(time);
    }

    public RedisExecutor Executor { get; }

    public LocksOptions Options { get; }

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

    public CoordinationEvents Events => Executor.Events;

    public CoordinationMetrics Metrics => Executor.Metrics;

    /// <summary>The runtime registered for <paramref name="executor"/> (by dependency injection), or a default one for it.</summary>
    public static LockRuntime For(RedisExecutor executor, CoordinationOptions options) =>
        ByExecutor.GetValue(executor, e => new LockRuntime(e, options, TimeProvider.System, NullLoggerFactory.Instance));

    /// <summary>Makes <paramref name="runtime"/> the one <see cref="For"/> returns for its executor.</summary>
    public static LockRuntime Register(LockRuntime runtime)
    {
        ByExecutor.AddOrUpdate(runtime.Executor, runtime);
        return runtime;
    }

    /// <summary>A new owner id: machine, process, a random tag (process ids are reused) and a sequence number.</summary>
    public static string NewOwner() => ProcessTag + "/" + Interlocked.Increment(ref _owners).ToString(System.Globalization.CultureInfo.InvariantCulture);

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

    /// <summary>Runs <paramref name="task"/> in the background, observing its failure (best-effort cleanup).</summary>
    public void Forget(Task task) =>
        task.ContinueWith(
            static (t, state) => LocksLog.BackgroundCallFailed((ILogger)state!, t.Exception!.GetBaseException()),
            Logger,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Primary.Dispose();
        await Waiters.DisposeAsync();
    }
}
