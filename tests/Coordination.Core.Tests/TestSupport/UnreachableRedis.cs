using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination.Core.Tests.TestSupport;

/// <summary>
/// A real connection pool and executor pointed at a loopback port nothing listens on: every connect is refused at
/// once, so the client and the resilience pipeline run for real without a Redis server.
/// </summary>
internal sealed class UnreachableRedis : IAsyncDisposable
{
    private UnreachableRedis(string connectionString, ResilienceOptions resilience, ConnectionPoolOptions pool, TimeProvider time)
    {
        ConnectionString = connectionString;
        Resilience = resilience;
        MeterFactory = new TestMeterFactory();
        Metrics = new CoordinationMetrics(MeterFactory);
        Events = new CoordinationEvents(Metrics, NullLogger<CoordinationEvents>.Instance);
        Pool = new RedisConnectionPool(connectionString, pool, resilience, Events, time, NullLogger<RedisConnectionPool>.Instance);
        Executor = new RedisExecutor(Pool, resilience, Events, Metrics, time, NullLoggerFactory.Instance);
    }

    public string ConnectionString { get; }

    public ResilienceOptions Resilience { get; }

    public TestMeterFactory MeterFactory { get; }

    public CoordinationMetrics Metrics { get; }

    public CoordinationEvents Events { get; }

    public RedisConnectionPool Pool { get; }

    public RedisExecutor Executor { get; }

    /// <summary>Opens the pool (its connections fail to connect and keep retrying in the background).</summary>
    public static Task<UnreachableRedis> StartAsync(ResilienceOptions? resilience = null, CancellationToken cancellationToken = default) =>
        StartAsync(resilience, TimeProvider.System, cancellationToken);

    /// <summary>
    /// Opens the pool as above, with the connections' timestamps and the executor's pipelines (break duration,
    /// sampling, retry delays) on <paramref name="time"/>: a <c>FakeTimeProvider</c> lets a test advance past a break
    /// duration instead of sleeping through it. Connecting, and the wait for the connection below, stay on real time.
    /// </summary>
    public static async Task<UnreachableRedis> StartAsync(ResilienceOptions? resilience, TimeProvider time, CancellationToken cancellationToken)
    {
        var redis = Create(resilience, time);
        await redis.Pool.StartAsync(cancellationToken);

        // On a loaded machine the first connect attempt can outlast StartAsync's wait; the connection then joins
        // the pool in the background. Tests want it there, failing, before they start.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (redis.Pool.Size == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, cancellationToken);
        }

        return redis;
    }

    /// <summary>A pool that was never started: it has no connection at all.</summary>
    public static UnreachableRedis Create(ResilienceOptions? resilience = null, TimeProvider? time = null)
    {
        var pool = new ConnectionPoolOptions { ConnectTimeout = TimeSpan.FromMilliseconds(200) };
        return new UnreachableRedis($"127.0.0.1:{FreeLoopbackPort()}", resilience ?? new ResilienceOptions(), pool, time ?? TimeProvider.System);
    }

    /// <summary>A loopback port that was free a moment ago; nothing listens on it afterwards, so connects are refused.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        await Pool.DisposeAsync();
        MeterFactory.Dispose();
    }
}
