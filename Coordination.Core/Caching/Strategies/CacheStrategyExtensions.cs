using System.ComponentModel.DataAnnotations;
using Coordination;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers cache strategies by key prefix on the builder <c>AddCoordination</c> returned: read-through (with
/// refresh-ahead), write-through and write-behind, used through <see cref="IBackedCache"/>.
/// </summary>
/// <remarks>
/// Each key prefix has at most one loader and at most one writer (write-through or write-behind); a key uses those of
/// its longest registered prefix. A duplicate registration fails the host's start. Strategies apply to the default
/// tenant's cache.
/// </remarks>
public static class CacheStrategyExtensions
{
    /// <summary>Registers <paramref name="loader"/> for the keys that start with <paramref name="keyPrefix"/> (read-through).</summary>
    /// <typeparam name="T">The type of the values.</typeparam>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="keyPrefix">The key prefix (ordinal, for example <c>"product:"</c>).</param>
    /// <param name="loader">Loads a key's value from the system of record; its token is canceled only at shutdown.</param>
    /// <param name="entryOptions">
    /// The settings of the entries loaded; set <see cref="CacheEntryOptions.EagerRefreshThreshold"/> for refresh-ahead.
    /// <see langword="null"/> uses the cache defaults.
    /// </param>
    /// <returns>The same builder.</returns>
    public static ICoordinationBuilder WithReadThrough<T>(
        this ICoordinationBuilder builder,
        string keyPrefix,
        Func<string, CancellationToken, ValueTask<T>> loader,
        CacheEntryOptions? entryOptions = null)
    {
        ArgumentNullException.ThrowIfNull(loader);
        return Add(builder, keyPrefix, _ => new ReadThroughStrategy<T>(keyPrefix, new DelegateCacheLoader<T>(loader), entryOptions));
    }

    /// <summary>
    /// Registers the loader <typeparamref name="TLoader"/> (resolved from the services, or created with its
    /// dependencies injected) for the keys that start with <paramref name="keyPrefix"/> (read-through).
    /// </summary>
    /// <typeparam name="T">The type of the values.</typeparam>
    /// <typeparam name="TLoader">The loader.</typeparam>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="keyPrefix">The key prefix (ordinal, for example <c>"product:"</c>).</param>
    /// <param name="entryOptions">
    /// The settings of the entries loaded; set <see cref="CacheEntryOptions.EagerRefreshThreshold"/> for refresh-ahead.
    /// <see langword="null"/> uses the cache defaults.
    /// </param>
    /// <returns>The same builder.</returns>
    public static ICoordinationBuilder WithReadThrough<T, TLoader>(this ICoordinationBuilder builder, string keyPrefix, CacheEntryOptions? entryOptions = null)
        where TLoader : class, ICacheLoader<T> =>
        Add(builder, keyPrefix, sp => new ReadThroughStrategy<T>(keyPrefix, ActivatorUtilities.GetServiceOrCreateInstance<TLoader>(sp), entryOptions));

    /// <summary>
    /// Registers <paramref name="writer"/> for the keys that start with <paramref name="keyPrefix"/> (write-through): it
    /// is called with each write before the cache is updated; when it throws, the cache is left unchanged.
    /// </summary>
    /// <typeparam name="T">The type of the values.</typeparam>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="keyPrefix">The key prefix (ordinal).</param>
    /// <param name="writer">Writes to the system of record (one write per call).</param>
    /// <param name="entryOptions">The settings of the entries written; <see langword="null"/> uses the cache defaults.</param>
    /// <returns>The same builder.</returns>
    public static ICoordinationBuilder WithWriteThrough<T>(
        this ICoordinationBuilder builder,
        string keyPrefix,
        Func<IReadOnlyList<KeyValuePair<string, T>>, CancellationToken, ValueTask> writer,
        CacheEntryOptions? entryOptions = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return Add(builder, keyPrefix, _ => new WriteThroughStrategy<T>(keyPrefix, new DelegateCacheWriter<T>(writer), entryOptions));
    }

    /// <summary>Registers the writer <typeparamref name="TWriter"/> for the keys that start with <paramref name="keyPrefix"/> (write-through).</summary>
    /// <typeparam name="T">The type of the values.</typeparam>
    /// <typeparam name="TWriter">The writer, resolved from the services or created with its dependencies injected.</typeparam>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="keyPrefix">The key prefix (ordinal).</param>
    /// <param name="entryOptions">The settings of the entries written; <see langword="null"/> uses the cache defaults.</param>
    /// <returns>The same builder.</returns>
    public static ICoordinationBuilder WithWriteThrough<T, TWriter>(this ICoordinationBuilder builder, string keyPrefix, CacheEntryOptions? entryOptions = null)
        where TWriter : class, ICacheWriter<T> =>
        Add(builder, keyPrefix, sp => new WriteThroughStrategy<T>(keyPrefix, ActivatorUtilities.GetServiceOrCreateInstance<TWriter>(sp), entryOptions));

    /// <summary>
    /// Registers <paramref name="writer"/> for the keys that start with <paramref name="keyPrefix"/> (write-behind):
    /// writes are acknowledged once queued, applied to the cache at once and written in batches; a failing batch is
    /// retried with backoff; the queue is written out when the host stops.
    /// </summary>
    /// <typeparam name="T">The type of the values.</typeparam>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="keyPrefix">The key prefix (ordinal).</param>
    /// <param name="writer">Writes a batch to the system of record; must be idempotent (batches are retried).</param>
    /// <param name="configure">Changes the batch size, interval, capacity, retry delays and entry settings.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ValidationException">An option is out of its range.</exception>
    public static ICoordinationBuilder WithWriteBehind<T>(
        this ICoordinationBuilder builder,
        string keyPrefix,
        Func<IReadOnlyList<KeyValuePair<string, T>>, CancellationToken, ValueTask> writer,
        Action<WriteBehindOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return AddWriteBehind(builder, keyPrefix, _ => new DelegateCacheWriter<T>(writer), configure);
    }

    /// <summary>Registers the writer <typeparamref name="TWriter"/> for the keys that start with <paramref name="keyPrefix"/> (write-behind).</summary>
    /// <typeparam name="T">The type of the values.</typeparam>
    /// <typeparam name="TWriter">The writer, resolved from the services or created with its dependencies injected; must be idempotent.</typeparam>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="keyPrefix">The key prefix (ordinal).</param>
    /// <param name="configure">Changes the batch size, interval, capacity, retry delays and entry settings.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ValidationException">An option is out of its range.</exception>
    public static ICoordinationBuilder WithWriteBehind<T, TWriter>(this ICoordinationBuilder builder, string keyPrefix, Action<WriteBehindOptions>? configure = null)
        where TWriter : class, ICacheWriter<T> =>
        AddWriteBehind(builder, keyPrefix, sp => ActivatorUtilities.GetServiceOrCreateInstance<TWriter>(sp), configure);

    private static ICoordinationBuilder AddWriteBehind<T>(ICoordinationBuilder builder, string keyPrefix, Func<IServiceProvider, ICacheWriter<T>> writer, Action<WriteBehindOptions>? configure)
    {
        var options = new WriteBehindOptions();
        configure?.Invoke(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        if (options.MaxRetryDelay < options.RetryDelay)
        {
            throw new ValidationException($"{nameof(WriteBehindOptions.MaxRetryDelay)} ({options.MaxRetryDelay}) must not be below {nameof(WriteBehindOptions.RetryDelay)} ({options.RetryDelay}).");
        }

        return Add(builder, keyPrefix, sp => new WriteBehindQueue<T>(
            keyPrefix,
            writer(sp),
            options,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<IBackedCache>(),
            sp.GetRequiredService<CacheRuntime>().Metrics));
    }

    private static ICoordinationBuilder Add(ICoordinationBuilder builder, string keyPrefix, Func<IServiceProvider, CacheStrategy> create)
    {
        ArgumentNullException.ThrowIfNull(builder);
        CoordinationKey.ValidateName(keyPrefix, nameof(keyPrefix));
        builder.Services.AddSingleton(new CacheStrategyRegistration(create));
        AddBackedCache(builder.Services);
        return builder;
    }

    /// <summary>Registers <see cref="IBackedCache"/> (once) with whatever strategies are registered.</summary>
    internal static void AddBackedCache(IServiceCollection services)
    {
        services.TryAddSingleton(sp => new BackedCache(sp.GetRequiredService<ICacheManager>(), sp.GetServices<CacheStrategyRegistration>(), sp));
        services.TryAddSingleton<IBackedCache>(sp => sp.GetRequiredService<BackedCache>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CacheStrategyLifetime>());
    }
}
