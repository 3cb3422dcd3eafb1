using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// What the session managers of all tenants share: options, the executor, the data schema's upgraders, logging and
/// the instruments. Owned by the container (one per host); it keeps one manager per tenant. It holds no connection of
/// its own; its only background work is a replay after an outage (<see cref="SessionReplay"/>), whose state lives in
/// PostgreSQL, so it has no shutdown step.
/// </summary>
internal sealed class SessionRuntime
{
    private readonly ConcurrentDictionary<string, RedisSessionManager> _tenants = new(StringComparer.Ordinal);

    /// <exception cref="InvalidOperationException"><paramref name="upgraders"/> do not form the chain 1→2→…→N.</exception>
    public SessionRuntime(RedisExecutor executor, CoordinationOptions options, CoordinationMetrics metrics, ILoggerFactory loggerFactory, PostgresSessionStore? store = null, IEnumerable<ISessionDataUpgrader>? upgraders = null, SessionMigrationSource? migration = null)
    {
        Store = store;
        Upgrades = new SessionUpgrades(upgraders ?? []);
        Migration = migration is { IsEnabled: true } ? migration : null;
        MigrationMetrics = new SessionMigrationMetrics(metrics.Meter);
        Executor = executor;
        Options = options.Sessions;
        KeyPrefix = options.KeyPrefix;
        MaxSessionsPerTenant = options.Quotas.MaxSessionsPerTenant;
        Metrics = new SessionMetrics(metrics.Meter);
        Logger = loggerFactory.CreateLogger<RedisSessionManager>();
        Replay = new SessionReplay(this);
    }

    public RedisExecutor Executor { get; }

    /// <summary>The sessions' durable copy in PostgreSQL, when the fallback store is configured.</summary>
    public PostgresSessionStore? Store { get; }

    public SessionManagerOptions Options { get; }

    /// <summary>Replays to Redis the changes made in the durable copy while Redis was unavailable.</summary>
    public SessionReplay Replay { get; }

    /// <summary>The registered data schema steps; sessions in an older schema are upgraded on read.</summary>
    public SessionUpgrades Upgrades { get; }

    /// <summary>Where sessions are moved from, while a migration is configured (<see cref="SessionMigrationOptions"/>).</summary>
    public SessionMigrationSource? Migration { get; }

    public SessionMigrationMetrics MigrationMetrics { get; }

    public string KeyPrefix { get; }

    /// <summary>The session quota of each tenant (<see cref="QuotaOptions.MaxSessionsPerTenant"/>); 0: none.</summary>
    public int MaxSessionsPerTenant { get; }

    public SessionMetrics Metrics { get; }

    public ILogger Logger { get; }

    /// <summary>The session manager of <paramref name="tenant"/> (one per tenant).</summary>
    public RedisSessionManager ForTenant(string tenant)
    {
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        return _tenants.GetOrAdd(tenant, static (t, runtime) => new RedisSessionManager(t, runtime), this);
    }
}
