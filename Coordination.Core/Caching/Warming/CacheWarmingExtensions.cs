using Coordination;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers cache warming on the builder <c>AddCoordination</c> returned.</summary>
public static class CacheWarmingExtensions
{
    /// <summary>
    /// Adds the cache warming service: on one node at a time (the holder of a distributed lock) it runs the registered
    /// <see cref="ICacheWarmer"/>s, then periodically reloads the hottest keys (sampled on every node's reads) through
    /// their read-through loaders before they expire. Options are bound from <see cref="CacheWarmingOptions.SectionName"/>
    /// and validated at start. Also registers <see cref="IBackedCache"/> when no strategy did.
    /// </summary>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="configure">Changes the options after they are bound.</param>
    /// <returns>The same builder.</returns>
    /// <remarks>
    /// Register it on every node that serves reads (so their hot keys are counted) and on the node meant to warm (for
    /// example the worker), with the same loaders on all of them: whichever node holds the lock reloads the keys.
    /// </remarks>
    public static ICoordinationBuilder WithCacheWarming(this ICoordinationBuilder builder, Action<CacheWarmingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<CacheWarmingOptions>().BindConfiguration(CacheWarmingOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations().ValidateOnStart();
        CacheStrategyExtensions.AddBackedCache(services);
        services.TryAddSingleton<CacheWarmingService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CacheWarmingHost>());
        return builder;
    }

    /// <summary>Registers the warmer <typeparamref name="TWarmer"/> (a singleton), run by the cache warming service.</summary>
    /// <typeparam name="TWarmer">The warmer; its dependencies are injected.</typeparam>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <returns>The same builder.</returns>
    public static ICoordinationBuilder WithCacheWarmer<TWarmer>(this ICoordinationBuilder builder)
        where TWarmer : class, ICacheWarmer
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ICacheWarmer, TWarmer>());
        return builder;
    }

    /// <summary>Registers <paramref name="warm"/> as a warmer, run by the cache warming service.</summary>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="warm">Warms keys through the cache and returns how many it wrote.</param>
    /// <returns>The same builder.</returns>
    public static ICoordinationBuilder WithCacheWarmer(this ICoordinationBuilder builder, Func<IBackedCache, CancellationToken, ValueTask<int>> warm)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(warm);
        builder.Services.AddSingleton<ICacheWarmer>(new DelegateCacheWarmer(warm));
        return builder;
    }
}
