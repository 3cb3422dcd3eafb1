using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The Redis implementation of <see cref="IRateLimitService"/> for one tenant. Each decision is one script of its
/// algorithm (<c>Scripts/ratelimit_*.lua</c>) on one key, <c>{prefix}:{tenant}:ratelimit:{{prefix}:{tenant}}:{policy}:{algorithm}:{key}</c>:
/// the tenant is the hash tag, so every key of a tenant shares one slot and a script may charge several levels of one
/// tenant at once; the algorithm is in the name so a policy that changes algorithm starts afresh instead of reading
/// another algorithm's state.
/// </summary>
internal sealed class RedisRateLimitService : IRateLimitService
{
    private const string Capability = "ratelimit";

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
        ArgumentOutOfRangeException.ThrowIfLessThan(permits, 1);
        if (!Enum.IsDefined(priority))
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, "The priority is not one of Normal, Critical.");
        }

        using var activity = StartActivity("coordination ratelimit.acquire", policy, key);
        var configured = await ResolveAsync(policy, cancellationToken) ?? throw new RateLimitPolicyNotFoundException(policy);
        var definition = _runtime.Adaptive.Apply(policy, configured);
        var algorithm = definition.Algorithm;
        var leaseId = algorithm == RateLimitAlgorithm.Concurrency ? NewLease() : null;
        var limit = algorithm is RateLimitAlgorithm.TokenBucket or RateLimitAlgorithm.Gcra ? RateLimitPolicyRules.Capacity(definition) : definition.Limit;
        var reserve = RateLimitPolicyRules.Reserve(limit, _runtime.CriticalReserve, priority);
        var request = new Request(ScriptOf(algorithm), StateKey(policy, algorithm, key), ArgumentsOf(definition, permits, reserve, leaseId));
        RedisResult[] result;
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Not idempotent: a retry after a lost answer would charge the permits twice.
            result = (RedisResult[])(await _runtime.Executor.ExecuteAsync(
                "ratelimit.acquire",
                idempotent: false,
                static (db, r) => r.Script.EvaluateByShaAsync(db, [r.Key], r.Arguments),
                request,
                cancellationToken))!;
        }
        catch (CoordinationUnavailableException ex)
        {
            _runtime.LatencySignal.Record(started, failed: true);
            if (!_runtime.Fallback.Enabled)
            {
                _runtime.Metrics.RecordUnavailable(algorithm);
                RateLimitingLog.RedisUnavailable(_runtime.Logger, Tenant, algorithm, ex);
                throw;
            }

            var local = _runtime.Fallback.Decide(Tenant, policy, definition, key, permits, priority, ex);
            activity?.SetTag("coordination.ratelimit.allowed", local.Allowed);
            activity?.SetTag("coordination.ratelimit.local", true);
            return local;
        }

        _runtime.LatencySignal.Record(started, failed: false);
        _runtime.Fallback.RedisAnswered();
        var allowed = (long)result[0] == 1;
        var retry = (long)result[3];
        _runtime.Metrics.RecordDecision(algorithm, allowed);
        activity?.SetTag("coordination.ratelimit.allowed", allowed);
        string? reason = null;
        if (retry < 0)
        {
            RateLimitingLog.PermitsOverCapacity(_runtime.Logger, Tenant, policy, permits);
            reason = $"{permits} permits are more than policy '{policy}' ever allows at once ({limit - reserve} at {priority} priority); the request can never succeed.";
        }

        return new RateLimitDecision(
            allowed,
            limit,
            (long)result[1],
            TimeSpan.FromMilliseconds((long)result[2]),
            retry < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(retry),
            allowed && leaseId is not null ? LeaseIdOf(leaseId, permits, key) : null,
            reason);
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

        var released = await _runtime.Executor.ExecuteAsync(
            "ratelimit.release",
            idempotent: true,
            static (db, s) => RedisScript.RateLimitRelease.EvaluateByShaAsync(db, [s.Key], s.Arguments),
            (Key: StateKey(policy, RateLimitAlgorithm.Concurrency, key), Arguments: new RedisValue[] { lease, permits }),
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

    private static RedisScript ScriptOf(RateLimitAlgorithm algorithm) => algorithm switch
    {
        RateLimitAlgorithm.FixedWindow => RedisScript.RateLimitFixedWindow,
        RateLimitAlgorithm.SlidingWindow => RedisScript.RateLimitSlidingWindow,
        RateLimitAlgorithm.SlidingLog => RedisScript.RateLimitSlidingLog,
        RateLimitAlgorithm.TokenBucket => RedisScript.RateLimitTokenBucket,
        RateLimitAlgorithm.Gcra => RedisScript.RateLimitGcra,
        _ => RedisScript.RateLimitConcurrency,
    };

    /// <summary>
    /// Every script takes limit, period ms and permits first; then its own (capacity, burst, lease id); last the
    /// reserve, the permits of the limit (or capacity) the request's priority may not use.
    /// </summary>
    private static RedisValue[] ArgumentsOf(RateLimitPolicy definition, int permits, long reserve, string? leaseId)
    {
        var limit = definition.Limit;
        var period = RateLimitPolicyRules.PeriodMilliseconds(definition);
        return definition.Algorithm switch
        {
            RateLimitAlgorithm.TokenBucket or RateLimitAlgorithm.Gcra => [limit, period, permits, RateLimitPolicyRules.Capacity(definition), reserve],
            RateLimitAlgorithm.Concurrency => [limit, period, permits, leaseId, reserve],
            _ => [limit, period, permits, reserve],
        };
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

    private sealed record Request(RedisScript Script, RedisKey Key, RedisValue[] Arguments);
}
