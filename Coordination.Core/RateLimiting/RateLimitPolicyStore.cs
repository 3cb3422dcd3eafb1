using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The platform's rate-limit policies (<see cref="IRateLimitPolicies"/>): configuration's defaults, replaced by the
/// policies kept in Redis, with tenants' overrides read on first use. Every node keeps a snapshot and compares the
/// version Redis keeps at most every <see cref="RateLimitingOptions.PolicyRefreshInterval"/>; a change moves the version,
/// so every node applies it within that interval (plus the read's round trip), and the node that made it at once.
/// </summary>
/// <remarks>
/// Keys (platform-wide, under a name no tenant can form since a tenant cannot contain '#'):
/// <c>{prefix}:#ratelimit:{{prefix}:#ratelimit}:policies</c>, a hash of policy name to definition plus the version, and
/// <c>...:overrides:{policy}</c>, a hash of tenant to definition per policy; one hash tag, so the script that changes
/// them runs on one slot of a cluster.
/// </remarks>
internal sealed class RateLimitPolicyStore : IRateLimitPolicies
{
    private const string VersionField = "#version";

    private readonly RedisExecutor _executor;
    private readonly RateLimitingOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly RateLimitingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly RedisKey _policiesKey;
    private readonly string _overridesKeyPrefix;
    private readonly Lock _gate = new();
    private Task<Snapshot>? _refresh;
    private long _refreshChanges;
    private long _localChanges;
    private Snapshot? _snapshot;

    public RateLimitPolicyStore(RedisExecutor executor, string keyPrefix, RateLimitingOptions options, TimeProvider timeProvider, RateLimitingMetrics metrics, ILogger logger)
    {
        _executor = executor;
        _options = options;
        _timeProvider = timeProvider;
        _metrics = metrics;
        _logger = logger;
        var root = string.Concat(keyPrefix, ":#ratelimit:{", keyPrefix, ":#ratelimit}");
        _policiesKey = root + ":policies";
        _overridesKeyPrefix = root + ":overrides:";
        Configured = options.Policies.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The policies configuration defines (validated at start).</summary>
    public FrozenDictionary<string, RateLimitPolicy> Configured { get; }

    public ValueTask SetAsync(string policy, RateLimitPolicy definition, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateSegment(policy, nameof(policy));
        RateLimitPolicyRules.Validate(definition, nameof(definition));
        return StoreAsync(policy, tenant: null, definition, cancellationToken);
    }

    public ValueTask SetOverrideAsync(string policy, string tenant, RateLimitPolicy definition, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateSegment(policy, nameof(policy));
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        RateLimitPolicyRules.Validate(definition, nameof(definition));
        return StoreAsync(policy, tenant, definition, cancellationToken);
    }

    public async ValueTask<RateLimitPolicy?> GetAsync(string policy, string? tenant = null, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateSegment(policy, nameof(policy));
        if (tenant is not null)
        {
            CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        }

        return await ResolveAsync(policy, tenant, cancellationToken);
    }

    /// <summary>The policy as it applies to <paramref name="tenant"/>: its override, else the policy; names already validated.</summary>
    public async ValueTask<RateLimitPolicy?> ResolveAsync(string policy, string? tenant, CancellationToken cancellationToken)
    {
        var snapshot = await CurrentAsync(cancellationToken);
        if (tenant is not null)
        {
            if (!snapshot.Overrides.TryGetValue((policy, tenant), out var tenantOverride))
            {
                tenantOverride = await ReadOverrideAsync(policy, tenant, cancellationToken);
                // Cached for this version only: a later change moves the version and the next snapshot starts empty.
                snapshot.Overrides.TryAdd((policy, tenant), tenantOverride);
            }

            if (tenantOverride is not null)
            {
                return tenantOverride;
            }
        }

        return snapshot.Policies.GetValueOrDefault(policy);
    }

    /// <summary>
    /// While Redis is unavailable (for the local fallback limiter): what this node last knew, without asking Redis. The
    /// tenant's override when the last snapshot had read it, else the policy of the last snapshot, else of configuration.
    /// </summary>
    public RateLimitPolicy? ResolveKnown(string policy, string? tenant)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is null)
        {
            return Configured.GetValueOrDefault(policy);
        }

        return tenant is not null && snapshot.Overrides.TryGetValue((policy, tenant), out var tenantOverride) && tenantOverride is not null
            ? tenantOverride
            : snapshot.Policies.GetValueOrDefault(policy);
    }

    private async ValueTask StoreAsync(string policy, string? tenant, RateLimitPolicy definition, CancellationToken cancellationToken)
    {
        var kind = tenant is null ? "policy" : "override";
        var result = (RedisResult[])(await _executor.ExecuteAsync(
            "ratelimit.policy.set",
            idempotent: true,
            static (db, s) => RedisScript.RateLimitPolicySet.EvaluateByShaAsync(db, s.Keys, s.Arguments),
            (Keys: new RedisKey[] { _policiesKey, _overridesKeyPrefix + policy },
                Arguments: new RedisValue[]
                {
                    kind, policy, tenant ?? string.Empty, RateLimitPolicyRules.Serialize(definition),
                    _options.MaxPolicies, _options.MaxOverridesPerPolicy, Configured.ContainsKey(policy) ? "1" : "0",
                }),
            cancellationToken))!;
        if ((long)result[0] == 0)
        {
            switch ((string?)result[1])
            {
                case "policies":
                    RateLimitingLog.BoundReached(_logger, "policies", _options.MaxPolicies);
                    throw ExceptionFactory.RateLimitPoliciesExceeded(_options.MaxPolicies);
                case "overrides":
                    RateLimitingLog.BoundReached(_logger, "overrides", _options.MaxOverridesPerPolicy);
                    throw ExceptionFactory.RateLimitOverridesExceeded(_options.MaxOverridesPerPolicy);
                default:
                    throw new RateLimitPolicyNotFoundException(policy);
            }
        }

        if (tenant is null)
        {
            RateLimitingLog.PolicySet(_logger, policy, definition.Algorithm, definition.Limit, definition.Period, definition.Burst);
        }
        else
        {
            RateLimitingLog.OverrideSet(_logger, policy, tenant, definition.Algorithm, definition.Limit, definition.Period, definition.Burst);
        }

        // This node applies its own change at once: the next use reads the new version.
        Interlocked.Increment(ref _localChanges);
        Volatile.Read(ref _snapshot)?.MarkStale();
    }

    private async ValueTask<Snapshot> CurrentAsync(CancellationToken cancellationToken)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is not null && !snapshot.IsStale(_timeProvider, _options.PolicyRefreshInterval))
        {
            return snapshot;
        }

        // One read per node per interval: the callers that find the snapshot stale wait for the same one, which runs
        // to its end (bounded by the executor's timeouts) even when the caller that started it gives up.
        Task<Snapshot> refresh;
        lock (_gate)
        {
            // A refresh that started before this node's own last change may miss it: a new one is started.
            var changes = Interlocked.Read(ref _localChanges);
            if (_refresh is null || _refresh.IsCompleted || _refreshChanges != changes)
            {
                _refreshChanges = changes;
                _refresh = RefreshAsync(changes);
            }

            refresh = _refresh;
        }

        return await refresh.WaitAsync(cancellationToken);
    }

    private async Task<Snapshot> RefreshAsync(long changes)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        var readAt = _timeProvider.GetTimestamp();
        var version = (long?)await _executor.ExecuteAsync(
            "ratelimit.policy.version",
            idempotent: true,
            static (db, key) => db.HashGetAsync(key, VersionField),
            _policiesKey,
            CancellationToken.None) ?? 0;
        if (snapshot is not null && snapshot.Version == version)
        {
            _metrics.RecordRefresh(changed: false);
            snapshot.Confirm(readAt);
            StaleIfChangedSince(snapshot, changes);
            return snapshot;
        }

        var entries = await _executor.ExecuteAsync(
            "ratelimit.policy.read",
            idempotent: true,
            static (db, key) => db.HashGetAllAsync(key),
            _policiesKey,
            CancellationToken.None);
        _metrics.RecordRefresh(changed: true);
        snapshot = Build(entries, readAt);
        Volatile.Write(ref _snapshot, snapshot);
        StaleIfChangedSince(snapshot, changes);
        return snapshot;
    }

    /// <summary>This node changed a policy while the snapshot was read: it may predate the change, so the next use reads again.</summary>
    private void StaleIfChangedSince(Snapshot snapshot, long changes)
    {
        if (Interlocked.Read(ref _localChanges) != changes)
        {
            snapshot.MarkStale();
        }
    }

    private Snapshot Build(HashEntry[] entries, long readAt)
    {
        var policies = new Dictionary<string, RateLimitPolicy>(Configured, StringComparer.Ordinal);
        long version = 0;
        var unreadable = 0;
        foreach (var entry in entries)
        {
            var name = (string)entry.Name!;
            if (name == VersionField)
            {
                version = (long)entry.Value;
            }
            else if (RateLimitPolicyRules.Parse(entry.Value) is { } policy)
            {
                policies[name] = policy;
            }
            else
            {
                unreadable++;
            }
        }

        if (unreadable > 0)
        {
            RateLimitingLog.PolicyUnreadable(_logger, unreadable);
        }

        RateLimitingLog.PoliciesRefreshed(_logger, version, policies.Count);
        return new Snapshot(version, policies.ToFrozenDictionary(StringComparer.Ordinal), readAt);
    }

    private async ValueTask<RateLimitPolicy?> ReadOverrideAsync(string policy, string tenant, CancellationToken cancellationToken)
    {
        var stored = await _executor.ExecuteAsync(
            "ratelimit.policy.read",
            idempotent: true,
            static (db, s) => db.HashGetAsync(s.Key, s.Tenant),
            (Key: (RedisKey)(_overridesKeyPrefix + policy), Tenant: tenant),
            cancellationToken);
        if (stored.IsNull)
        {
            return null;
        }

        var parsed = RateLimitPolicyRules.Parse(stored);
        if (parsed is null)
        {
            RateLimitingLog.PolicyUnreadable(_logger, 1);
        }

        return parsed;
    }

    /// <summary>The policies as one version of Redis's copy had them, and the overrides read since.</summary>
    private sealed class Snapshot(long version, FrozenDictionary<string, RateLimitPolicy> policies, long readAt)
    {
        private long _readAt = readAt;

        public long Version { get; } = version;

        public FrozenDictionary<string, RateLimitPolicy> Policies { get; } = policies;

        /// <summary>Tenants' overrides by (policy, tenant), <see langword="null"/> when the tenant has none.</summary>
        public ConcurrentDictionary<(string Policy, string Tenant), RateLimitPolicy?> Overrides { get; } = new();

        public bool IsStale(TimeProvider timeProvider, TimeSpan interval)
        {
            var readAt = Interlocked.Read(ref _readAt);
            return readAt == long.MinValue || timeProvider.GetElapsedTime(readAt) >= interval;
        }

        /// <summary>Redis still has this version, as read at <paramref name="readAt"/>.</summary>
        public void Confirm(long readAt) => Interlocked.Exchange(ref _readAt, readAt);

        public void MarkStale() => Interlocked.Exchange(ref _readAt, long.MinValue);
    }
}
