using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests.TestSupport;

/// <summary>Builds the capability runtimes on an <see cref="UnreachableRedis"/> as the container does, for unit tests.</summary>
internal static class Runtimes
{
    public static LockRuntime NewLockRuntime(this UnreachableRedis redis, CoordinationOptions? options = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        return new LockRuntime(redis.Executor, options ?? new CoordinationOptions(), new RedisClock(time), redis.Events, redis.Metrics, time, NullLoggerFactory.Instance);
    }

    public static CacheRuntime NewCacheRuntime(this UnreachableRedis redis, LockRuntime locks, CoordinationOptions? options = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        return new CacheRuntime(
            redis.Executor,
            options ?? new CoordinationOptions(),
            new SystemTextJsonCoordinationSerializer(),
            locks,
            new RedisClock(time),
            redis.Metrics,
            time,
            NullLoggerFactory.Instance);
    }

    public static CoordinatorFactory NewCoordinatorFactory(this UnreachableRedis redis, KeyValueFallback fallback, LockRuntime locks, CacheRuntime caches, CoordinationOptions? options = null) =>
        new(Options.Create(options ?? new CoordinationOptions()), new SystemTextJsonCoordinationSerializer(), redis.Executor, fallback, locks, caches, redis.NewSessionRuntime(options), redis.NewRateLimitRuntime(options), redis.Metrics);

    public static SessionRuntime NewSessionRuntime(this UnreachableRedis redis, CoordinationOptions? options = null) =>
        new(redis.Executor, options ?? new CoordinationOptions(), redis.Metrics, NullLoggerFactory.Instance);

    public static RateLimitRuntime NewRateLimitRuntime(this UnreachableRedis redis, CoordinationOptions? options = null) =>
        new(redis.Executor, options ?? new CoordinationOptions(), redis.Metrics, TimeProvider.System, NullLoggerFactory.Instance);
}
