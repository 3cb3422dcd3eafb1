using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests.Internal;

public class CoordinationOptionsValidatorTests
{
    private readonly CoordinationOptionsValidator _validator = new();

    [Fact]
    public void Validate_Defaults_Succeeds()
    {
        var result = _validator.Validate(Options.DefaultName, new CoordinationOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    public static TheoryData<string, Action<CoordinationOptions>> BadValues => new()
    {
        { "KeyPrefix", o => o.KeyPrefix = "" },
        { "KeyPrefix", o => o.KeyPrefix = "a:b" },
        { "KeyPrefix", o => o.KeyPrefix = new string('p', 65) },
        { "Tenant", o => o.Tenant = "x y" },
        { "Tenant", o => o.Tenant = "acme:other" },
        { "Tenant", o => o.Tenant = null! },
        { "MaxValueBytes", o => o.MaxValueBytes = 0 },
        { "DefaultLockTtl", o => o.DefaultLockTtl = TimeSpan.Zero },
        { "DefaultLockTtl", o => o.DefaultLockTtl = TimeSpan.FromDays(31) },
        { "MinConnections", o => o.Pool.MinConnections = 0 },
        { "MaxConnections", o => o.Pool.MaxConnections = 65 },
        { "GrowThreshold", o => o.Pool.GrowThreshold = 0 },
        { "ShrinkAfterIdle", o => o.Pool.ShrinkAfterIdle = TimeSpan.FromMilliseconds(999) },
        { "ScaleInterval", o => o.Pool.ScaleInterval = TimeSpan.FromMilliseconds(10) },
        { "HeartbeatInterval", o => o.Pool.HeartbeatInterval = TimeSpan.FromMinutes(11) },
        { "StallTimeout", o => o.Pool.StallTimeout = TimeSpan.Zero },
        { "MinForcedReconnectInterval", o => o.Pool.MinForcedReconnectInterval = TimeSpan.FromHours(2) },
        { "ReconnectBaseDelay", o => o.Pool.ReconnectBaseDelay = TimeSpan.FromMilliseconds(1) },
        { "ReconnectMaxDelay", o => o.Pool.ReconnectMaxDelay = TimeSpan.FromMinutes(11) },
        { "ConnectTimeout", o => o.Pool.ConnectTimeout = TimeSpan.FromMilliseconds(-1) },
        { "AttemptTimeout", o => o.Resilience.AttemptTimeout = TimeSpan.Zero },
        { "AttemptTimeout", o => o.Resilience.AttemptTimeout = TimeSpan.FromMinutes(11) },
        { "MaxRetryAttempts", o => o.Resilience.MaxRetryAttempts = 11 },
        { "MaxRetryAttempts", o => o.Resilience.MaxRetryAttempts = -1 },
        { "RetryBaseDelay", o => o.Resilience.RetryBaseDelay = TimeSpan.FromMinutes(2) },
        { "FailureRatio", o => o.Resilience.FailureRatio = 0 },
        { "FailureRatio", o => o.Resilience.FailureRatio = 1.5 },
        { "MinimumThroughput", o => o.Resilience.MinimumThroughput = 1 },
        { "SamplingDuration", o => o.Resilience.SamplingDuration = TimeSpan.FromMilliseconds(100) },
        { "BreakDuration", o => o.Resilience.BreakDuration = TimeSpan.FromHours(2) },
        { "ConnectionName", o => o.Fallback.ConnectionName = null! },
        { "Schema", o => o.Fallback.Schema = "Bad-Schema" },
        { "Schema", o => o.Fallback.Schema = "x; DROP TABLE kv" },
        { "MirrorQueueCapacity", o => o.Fallback.MirrorQueueCapacity = 0 },
        { "MirrorBatchSize", o => o.Fallback.MirrorBatchSize = 100_001 },
        { "RecoveryProbeInterval", o => o.Fallback.RecoveryProbeInterval = TimeSpan.Zero },
        { "MirrorQueueMaxBytes", o => o.Fallback.MirrorQueueMaxBytes = 1023 },
        { "MirrorQueueMaxBytes", o => o.Fallback.MirrorQueueMaxBytes = -1 },
        { "PurgeInterval", o => o.Fallback.PurgeInterval = TimeSpan.FromMilliseconds(99) },
        { "PurgeInterval", o => o.Fallback.PurgeInterval = TimeSpan.FromDays(2) },
        { "Durability", o => o.Fallback.Durability = (KeyValueDurability)7 },
        { "SynchronousTimeout", o => o.Fallback.SynchronousTimeout = TimeSpan.Zero },
        { "SynchronousTimeout", o => o.Fallback.SynchronousTimeout = TimeSpan.FromMinutes(11) },
        { "LossCheckInterval", o => o.Fallback.LossCheckInterval = TimeSpan.FromMilliseconds(49) },
        { "LossCheckInterval", o => o.Fallback.LossCheckInterval = TimeSpan.FromMinutes(11) },
        { "RepairBatchSize", o => o.Fallback.RepairBatchSize = 0 },
        { "RepairBatchSize", o => o.Fallback.RepairBatchSize = 100_001 },
        { "RepairRowsPerSecond", o => o.Fallback.RepairRowsPerSecond = 0 },
        { "RepairLockTimeToLive", o => o.Fallback.RepairLockTimeToLive = TimeSpan.FromMilliseconds(999) },
        { "RepairLockTimeToLive", o => o.Fallback.RepairLockTimeToLive = TimeSpan.FromHours(2) },
        { "DegradedLatency", o => o.Health.DegradedLatency = TimeSpan.FromMinutes(2) },
        { "ProbeTimeout", o => o.Health.ProbeTimeout = TimeSpan.FromMilliseconds(1) },
        { "MaxKeysPerTenant", o => o.Quotas.MaxKeysPerTenant = -1 },
        { "MaxLockNamesPerTenant", o => o.Quotas.MaxLockNamesPerTenant = -1 },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Validate_BadValue_FailsNamingTheOption(string option, Action<CoordinationOptions> breakIt)
    {
        var options = new CoordinationOptions();
        breakIt(options);

        var result = _validator.Validate(Options.DefaultName, options);

        Assert.True(result.Failed);
        Assert.Contains(option, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NestedObjectMissing_Fails()
    {
        var options = new CoordinationOptions { Pool = null! };

        var result = _validator.Validate(Options.DefaultName, options);

        Assert.True(result.Failed);
        Assert.Contains("Pool", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SeveralBadValues_ReportsEach()
    {
        var options = new CoordinationOptions { KeyPrefix = "a:b", MaxValueBytes = 0 };
        options.Resilience.FailureRatio = 2;

        var result = _validator.Validate(Options.DefaultName, options);

        Assert.True(result.Failed);
        Assert.Contains("KeyPrefix", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("MaxValueBytes", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("FailureRatio", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BoundaryValues_Succeed()
    {
        var options = new CoordinationOptions
        {
            KeyPrefix = new string('p', 64),
            MaxValueBytes = 1,
            DefaultLockTtl = TimeSpan.FromDays(30),
        };
        options.Pool.MinConnections = 64;
        options.Pool.MaxConnections = 64;
        options.Resilience.MaxRetryAttempts = 0;
        options.Resilience.FailureRatio = 1.0;
        options.Resilience.MinimumThroughput = 2;

        var result = _validator.Validate(Options.DefaultName, options);

        Assert.True(result.Succeeded, result.FailureMessage);
    }
}
