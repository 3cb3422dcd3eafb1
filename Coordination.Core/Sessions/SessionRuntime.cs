using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// What the session managers of all tenants share: options, the executor, logging and the instruments. Owned by the
/// container (one per host); it keeps one manager per tenant. It holds no connection or background work of its own,
/// so it has no shutdown step.
/// </summary>
internal sealed class SessionRuntime
{
    private readonly ConcurrentDictionary<string, RedisSessionManager> _tenants = new(StringComparer.Ordinal);

    public SessionRuntime(RedisExecutor executor, CoordinationOptions options, CoordinationMetrics metrics, ILoggerFactory loggerFactory, PostgresSessionStore? store = null, SessionMigrationSource? migration = null)
    {
        Store = store;
        Migration = migration is { IsEnabled: true } ? migration : null;
        MigrationMetrics = new SessionMigrationMetrics(metrics.Meter);
        Executor = executor;
        Options = options.Sessions;
        KeyPrefix = options.KeyPrefix;
        Metrics = new SessionMetrics(metrics.Meter);
        Logger = loggerFactory.CreateLogger<RedisSessionManager>();
    }

    public RedisExecutor Executor { get; }

    /// <summary>The sessions' durable copy in PostgreSQL, when the fallback store is configured.</summary>
    public PostgresSessionStore? Store { get; }

    public SessionManagerOptions Options { get; }

    /// <summary>Where sessions are moved from, while a migration is configured (<see cref="SessionMigrationOptions"/>).</summary>
    public SessionMigrationSource? Migration { get; }

    public SessionMigrationMetrics MigrationMetrics { get; }

    public string KeyPrefix { get; }

    public SessionMetrics Metrics { get; }

    public ILogger Logger { get; }

    /// <summary>The session manager of <paramref name="tenant"/> (one per tenant).</summary>
    public RedisSessionManager ForTenant(string tenant)
    {
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        return _tenants.GetOrAdd(tenant, static (t, runtime) => new RedisSessionManager(t, runtime), this);
    }
}
