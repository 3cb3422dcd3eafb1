using Coordination;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers hot-key reports and warm-on-start on the builder <c>AddCoordination</c> returned.</summary>
public static class HotKeyWarmingExtensions
{
    /// <summary>
    /// Samples the reads of every tenant's cache on this node and reports the hottest keys to Redis every
    /// <see cref="HotKeyWarmingOptions.ReportInterval"/> (and when the host stops); when the host starts, before it
    /// serves, loads the hottest reported keys of the most recently reporting tenants from Redis into the memory level,
    /// as <typeparamref name="TValue"/>, so that the first reads after a restart are memory hits. Every bound is in
    /// <see cref="HotKeyWarmingOptions"/>, bound from <see cref="HotKeyWarmingOptions.SectionName"/> and validated at start.
    /// </summary>
    /// <typeparam name="TValue">
    /// The type the node reads its cached values as. A key read later as another type misses memory and is read from
    /// Redis, as without warming.
    /// </typeparam>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="configure">Changes the options after they are bound.</param>
    /// <returns>The same builder.</returns>
    public static ICoordinationBuilder WithHotKeyWarming<TValue>(this ICoordinationBuilder builder, Action<HotKeyWarmingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<HotKeyWarmingOptions>().BindConfiguration(HotKeyWarmingOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp => new HotKeyReports(
            sp.GetRequiredService<RedisExecutor>(),
            sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.KeyPrefix,
            sp.GetRequiredService<IOptions<HotKeyWarmingOptions>>().Value));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HotKeyWarmup<TValue>>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HotKeyReporter>());
        return builder;
    }
}
