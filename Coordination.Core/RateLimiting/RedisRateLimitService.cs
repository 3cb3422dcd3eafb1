using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The Redis implementation of <see cref="IRateLimitService"/> for one tenant. Each decision is one script
/// (<c>Scripts/ratelimit_acquire.lua</c>) over the keys of its levels (one for a single policy), each key <c>{prefix}:{tenant}:ratelimit:{{prefix}:{tenant}}:{policy}:{algorithm}:{key}</c>:
/// the tenant is the hash tag, so every key of a tenant shares one slot and a script may charge several levels of one
/// tenant at once; the algorithm is in the name so a policy that changes algorithm starts afresh instead of reading
/// another algorithm's state.
/// </summary>
internal sealed class RedisRateLimitService : IRateLimitService
{
    private const string Capability = "ratelimit";

    /// <summary>What <c>ratelimit_acquire.lua</c> takes and answers per level.</summary>
    private const int ArgumentsPerLevel = 5;
    private const int ResultsPerLevel = 4;

    private readonly RateLimitRuntime _runtime;
    private readonly string _keyRoot;

    public RedisRateLimitService(string tenant, RateLimitRuntime runtime)
    {
        Tenant = tenant;
        _runtime = runtime;
        _keyRoot = CoordinationKey.TenantTagged(runtime.KeyPrefix, tenant, Capability) + ":";
    }

    public string Tenant { get; }

    public async ValueTask<RateLimitDecision> AcquireAsync(string policy, string key, int permits = 1, RateLimitPriority priority = RateLimitPriority.Normal, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateSegment(policy, nameof(policy));
        CoordinationKey.ValidateName(key, nameof(key));
        ValidateRequest(permits, priority);

        using var activity = StartActivity("coordination ratelimit.acquire", policy, key);
        var level = await ResolveLevelAsync(policy, key, priority, cancellationToken);
        var decisions = await DecideAsync([level], permits, priority, activity, cancellationToken);
        return decisions[0];
    }

    public async ValueTask<RateLimitHierarchyDecision> AcquireAllAsync(IReadOnlyList<RateLimitLevel> levels, int permits = 1, RateLimitPriority priority = RateLimitPriority.Normal, CancellationToken cancellationToken = default)
    {
        ValidateLevels(levels);
        ValidateRequest(permits, priority);

        using var activity = StartActivity("coordination ratelimit.acquire_all", levels[0].Policy, levels[0].Key);
        activity?.SetTag("coordination.ratelimit.levels", levels.Count);
        var resolved = new Level[levels.Count];
        for (var i = 0; i < levels.Count; i++)
        {
            resolved[i] = await ResolveLevelAsync(levels[i].Policy, levels[i].Key, priority, cancellationToken);
            if (resolved[i].Definition.Algorithm == RateLimitAlgorithm.Concurrency)
            {
                throw new ArgumentException(
                    $"Level {i} names policy '{levels[i].Policy}', a Concurrency policy: its leases are taken one policy at a time with AcquireAsync, not as a level of an all-or-nothing acquisition.",
                    nameof(levels));
            }
        }

        return new RateLimitHierarchyDecision(await DecideAsync(resolved, permits, priority, activity, cancellationToken));
    }

    /// <summary>
    /// One acquisition over <paramref name="levels"/> (one for a single policy), all or nothing, in one script
    /// (<c>ratelimit_acquire.lua</c>); while Redis cannot be asked, by the local fallback limiter, or it throws.
    /// </summary>
    private async ValueTask<RateLimitDecision[]> DecideAsync(Level[] levels, int permits, RateLimitPriority priority, Activity? activity, CancellationToken cancellationToken)
    {
        var keys = new RedisKey[levels.Length];
        var arguments = new RedisValue[1 + (ArgumentsPerLevel * levels.Length)];
        arguments[0] = permits;
        for (var i = 0; i < levels.Length; i++)
        {
            keys[i] = levels[i].StateKey;
            levels[i].WriteArguments(arguments.AsSpan(1 + (ArgumentsPerLevel * i), ArgumentsPerLevel));
        }

        RedisResult[] result;
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Not idempotent: a retry after a lost answer would charge the permits twice.
            result = (RedisResult[])(await _runtime.Executor.ExecuteAsync(
                "ratelimit.acquire",
                keys[0],
                idempotent: false,
                static (db, r) => RedisScript.RateLimitAcquire.EvaluateByShaAsync(db, r.Keys, r.Arguments),
                (Keys: keys, Arguments: arguments),
                cancellationToken))!;
        }
        catch (CoordinationUnavailableException ex)
        {
            _runtime.LatencySignal.Record(started, failed: true);
            if (!_runtime.Fallback.Enabled)
            {
                _runtime.Metrics.RecordUnavailable(levels[0].Definition.Algorithm);
                RateLimitingLog.RedisUnavailable(_runtime.Logger, Tenant, levels[0].Definition.Algorithm, ex);
                throw;
            }

            var local = _runtime.Fallback.Decide(Tenant, [.. levels.Select(l => new RateLimitFallback.Level(l.Policy, l.Definition, l.Key))], permits, priority, ex);
            activity?.SetTag("coordination.ratelimit.allowed", local.All(d => d.Allowed));
            activity?.SetTag("coordination.ratelimit.local", true);
            return local;
        }

        _runtime.LatencySignal.Record(started, failed: false);
        _runtime.Fallback.RedisAnswered();
        var decisions = new RateLimitDecision[levels.Length];
        var allowed = true;
        for (var i = 0; i < levels.Length; i++)
        {
            decisions[i] = levels[i].DecisionOf(result.AsSpan(ResultsPerLevel * i, ResultsPerLevel), permits, priority);
            allowed &= decisions[i].Allowed;
            if (decisions[i].RetryAfter == Timeout.InfiniteTimeSpan)
            {
                RateLimitingLog.PermitsOverCapacity(_runtime.Logger, Tenant, levels[i].Policy, permits);
            }
        }

        foreach (var level in levels)
        {
            _runtime.Metrics.RecordDecision(level.Definition.Algorithm, allowed);
        }

        activity?.SetTag("coordination.ratelimit.allowed", allowed);
        return decisions;
    }

    public async ValueTask<bool> ReleaseAsync(string policy, string leaseId, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateSegment(policy, nameof(policy));
        ArgumentNullException.ThrowIfNull(leaseId);
        using var activity = StartActivity("coordination ratelimit.release", policy, key: null);
        var definition = await ResolveAsync(policy, cancellationToken) ?? throw new RateLimitPolicyNotFoundException(policy);
        if (definition.Algorithm != RateLimitAlgorithm.Concurrency)
        {
            return false;
        }

        if (leaseId.StartsWith(LocalRateLimiter.LeasePrefix, StringComparison.Ordinal))
        {
            // Granted while Redis was unavailable: held by this node only, and released here whether or not Redis is back.
            return _runtime.Fallback.Release(Tenant, policy, leaseId);
        }

        if (!TryParseLease(leaseId, out var lease, out var permits, out var key))
        {
            return false;
        }

        var stateKey = StateKey(policy, RateLimitAlgorithm.Concurrency, key);
        var released = await _runtime.Executor.ExecuteAsync(
            "ratelimit.release",
            stateKey,
            idempotent: true,
            static (db, s) => RedisScript.RateLimitRelease.EvaluateByShaAsync(db, [s.Key], s.Arguments),
            (Key: stateKey, Arguments: new RedisValue[] { lease, permits }),
            cancellationToken);
        return (long)released == 1;
    }

    public ValueTask<RateLimitPolicy?> GetPolicyAsync(string policy, CancellationToken cancellationToken = default) =>
        _runtime.Policies.GetAsync(policy, Tenant, cancellationToken);

    /// <summary>
    /// The policy as it applies to the tenant; while Redis is unavailable and the fallback is on, as this node last knew
    /// it (so the local limiter keeps deciding after the policies' refresh interval has passed); a policy it never knew
    /// still fails with <see cref="CoordinationUnavailableException"/>.
    /// </summary>
    private async ValueTask<RateLimitPolicy?> ResolveAsync(string policy, CancellationToken cancellationToken)
    {
        try
        {
            return await _runtime.Policies.ResolveAsync(policy, Tenant, cancellationToken);
        }
        catch (CoordinationUnavailableException) when (_runtime.Fallback.Enabled)
        {
            // A policy this node never knew may well exist in Redis: unavailable, not "not found".
            var known = _runtime.Policies.ResolveKnown(policy, Tenant);
            if (known is null)
            {
                throw;
            }

            return known;
        }
    }

    /// <summary>The Redis key of <paramref name="key"/>'s state under <paramref name="policy"/> (tests read it).</summary>
    internal RedisKey StateKey(string policy, RateLimitAlgorithm algorithm, string key) =>
        string.Concat(_keyRoot, policy, ":", RateLimitingMetrics.TagOf(algorithm), ":", key);

    /// <summary>Starts a span named <paramref name="spanName"/> (a constant) for the call; spans may carry the tenant and key, metrics never do.</summary>
    private Activity? StartActivity(string spanName, string policy, string? key)
    {
        var activity = CoordinationMetrics.ActivitySource.StartActivity(spanName, ActivityKind.Internal);
        activity?.SetTag("coordination.tenant", Tenant);
        activity?.SetTag("coordination.ratelimit.policy", policy);
        activity?.SetTag("coordination.ratelimit.key", key);
        return activity;
    }

    private static string NewLease() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// A lease id carries what its release needs, since a release names only the policy: <c>{random}.{permits}.{key}</c>,
    /// the key in base64url. It reaches only the tenant's own keys: the service builds the key under its tenant.
    /// </summary>
    private static string LeaseIdOf(string lease, int permits, string key) =>
        string.Concat(lease, ".", permits.ToString(CultureInfo.InvariantCulture), ".", Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key)));

    private static bool TryParseLease(string leaseId, out string lease, out int permits, out string key)
    {
        lease = key = string.Empty;
        permits = 0;
        var parts = leaseId.Split('.');
        if (parts is not [var random, var count, var encodedKey]
            || random.Length != 22
            || !int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out permits)
            || permits is < 1 or > (int)RateLimitPolicyRules.MaxConcurrencyLimit
            || !Base64Url.IsValid(encodedKey))
        {
            return false;
        }

        try
        {
            key = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(encodedKey));
        }
        catch (FormatException)
        {
            return false;
        }

        lease = random;
        return CoordinationLimits.FindNameProblem(key) is null;
    }

    private static void ValidateRequest(int permits, RateLimitPriority priority)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permits, 1);
        if (!Enum.IsDefined(priority))
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, "The priority is not one of Normal, Critical.");
        }
    }

    private static void ValidateLevels(IReadOnlyList<RateLimitLevel> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        if (levels.Count is < 1 or > IRateLimitService.MaxLevels)
        {
            throw new ArgumentException($"An acquisition has 1 to {IRateLimitService.MaxLevels} levels (it has {levels.Count}).", nameof(levels));
        }

        var seen = new HashSet<(string, string)>();
        for (var i = 0; i < levels.Count; i++)
        {
            var level = levels[i] ?? throw new ArgumentException($"Level {i} is null.", nameof(levels));
            CoordinationKey.ValidateSegment(level.Policy, nameof(levels));
            CoordinationKey.ValidateName(level.Key, nameof(levels));
            if (!seen.Add((level.Policy, level.Key)))
            {
                // Checked twice against one state, one level would admit what the pair cannot.
                throw new ArgumentException($"Level {i} repeats policy '{level.Policy}' with the same key: each (policy, key) is one level.", nameof(levels));
            }
        }
    }

    /// <summary>The policy of one level as it applies now (the tenant's override, adaptive limit applied).</summary>
    private async ValueTask<Level> ResolveLevelAsync(string policy, string key, RateLimitPriority priority, CancellationToken cancellationToken)
    {
        var configured = await ResolveAsync(policy, cancellationToken) ?? throw new RateLimitPolicyNotFoundException(policy);
        var definition = _runtime.Adaptive.Apply(policy, configured);
        var limit = definition.Algorithm is RateLimitAlgorithm.TokenBucket or RateLimitAlgorithm.Gcra ? RateLimitPolicyRules.Capacity(definition) : definition.Limit;
        return new Level(
            policy,
            key,
            definition,
            StateKey(policy, definition.Algorithm, key),
            limit,
            RateLimitPolicyRules.Reserve(limit, _runtime.CriticalReserve, priority),
            definition.Algorithm == RateLimitAlgorithm.Concurrency ? NewLease() : null);
    }

    /// <summary>
    /// One level of an acquisition, resolved: what the script needs of it and how its answer reads. <paramref name="Limit"/>
    /// is what the level counts against (the capacity for a token bucket and GCRA), <paramref name="Reserve"/> the
    /// permits of it the request's priority may not use.
    /// </summary>
    private sealed record Level(string Policy, string Key, RateLimitPolicy Definition, RedisKey StateKey, long Limit, long Reserve, string? Lease)
    {
        /// <summary>The level's five arguments of <c>ratelimit_acquire.lua</c>: algorithm, limit, period ms, extra, reserve.</summary>
        public void WriteArguments(Span<RedisValue> arguments)
        {
            arguments[0] = RateLimitingMetrics.TagOf(Definition.Algorithm);
            arguments[1] = Definition.Limit;
            arguments[2] = RateLimitPolicyRules.PeriodMilliseconds(Definition);
            arguments[3] = Definition.Algorithm switch
            {
                RateLimitAlgorithm.TokenBucket or RateLimitAlgorithm.Gcra => Limit,
                RateLimitAlgorithm.Concurrency => Lease,
                _ => RedisValue.EmptyString,
            };
            arguments[4] = Reserve;
        }

        /// <summary>The level's decision from its four values of the script's answer.</summary>
        public RateLimitDecision DecisionOf(ReadOnlySpan<RedisResult> answer, int permits, RateLimitPriority priority)
        {
            var allowed = (long)answer[0] == 1;
            var retry = (long)answer[3];
            return new RateLimitDecision(
                allowed,
                Limit,
                (long)answer[1],
                TimeSpan.FromMilliseconds((long)answer[2]),
                retry < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(retry),
                allowed && Lease is not null ? LeaseIdOf(Lease, permits, Key) : null,
                retry < 0 ? $"{permits} permits are more than policy '{Policy}' ever allows at once ({Limit - Reserve} at {priority} priority); the request can never succeed." : null);
        }
    }
}
