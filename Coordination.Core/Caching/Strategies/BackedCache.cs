namespace Coordination;

/// <summary>The <see cref="IBackedCache"/> of the default tenant: dispatches each key to the strategies of its longest registered prefix.</summary>
internal sealed class BackedCache : IBackedCache, IAsyncDisposable
{
    private readonly CacheLoaderStrategy[] _loaders;
    private readonly CacheStrategy[] _writers;

    public BackedCache(ICacheManager cache, IEnumerable<CacheStrategyRegistration> registrations, IServiceProvider services)
    {
        Cache = cache;
        var strategies = registrations.Select(r => r.Create(services)).ToArray();
        _loaders = Ordered(strategies.OfType<CacheLoaderStrategy>(), "loader");
        _writers = Ordered(strategies.Where(s => s is not CacheLoaderStrategy), "writer");
    }

    public ICacheManager Cache { get; }

    public long PendingWrites
    {
        get
        {
            long pending = 0;
            foreach (var writer in _writers)
            {
                pending += writer.Pending;
            }

            return pending;
        }
    }

    /// <summary>The read-through registrations (warming reloads hot keys through them).</summary>
    internal IReadOnlyList<CacheLoaderStrategy> Loaders => _loaders;

    public ValueTask<CacheResult<T>> GetAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        var loader = Find(_loaders, key);
        if (loader is null)
        {
            return Cache.GetAsync<T>(key, cancellationToken);
        }

        return loader is ReadThroughStrategy<T> typed
            ? typed.GetAsync(Cache, key, cancellationToken)
            : throw loader.WrongType("loader", typeof(T));
    }

    public ValueTask SetAsync<T>(string key, T value, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        var writer = Find(_writers, key);
        if (writer is null)
        {
            return Cache.SetAsync(key, value, cancellationToken: cancellationToken);
        }

        return writer is ICacheWriteStrategy<T> typed
            ? typed.SetAsync(Cache, key, value, cancellationToken)
            : throw writer.WrongType("writer", typeof(T));
    }

    public ValueTask RefreshAsync(string key, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        var loader = Find(_loaders, key) ?? throw new InvalidOperationException($"No loader is registered for a prefix of the key '{key}'.");
        return loader.RefreshAsync(Cache, key, cancellationToken);
    }

    public bool HasLoader(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Find(_loaders, key) is not null;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        foreach (var writer in _writers)
        {
            await writer.FlushAsync(cancellationToken);
        }
    }

    /// <summary>Stops every write-behind queue after writing what it holds (host shutdown).</summary>
    public Task StopAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_writers.Select(w => w.StopAsync(cancellationToken)));

    public async ValueTask DisposeAsync()
    {
        foreach (var writer in _writers.OfType<IAsyncDisposable>())
        {
            await writer.DisposeAsync();
        }
    }

    private static TStrategy? Find<TStrategy>(TStrategy[] strategies, string key)
        where TStrategy : CacheStrategy
    {
        foreach (var strategy in strategies)
        {
            if (strategy.Matches(key))
            {
                return strategy;
            }
        }

        return null;
    }

    /// <summary>Longest prefix first, so the first match is the most specific; one strategy per prefix and role.</summary>
    private static TStrategy[] Ordered<TStrategy>(IEnumerable<TStrategy> strategies, string role)
        where TStrategy : CacheStrategy
    {
        var ordered = strategies.OrderByDescending(s => s.Prefix.Length).ThenBy(s => s.Prefix, StringComparer.Ordinal).ToArray();
        for (var i = 1; i < ordered.Length; i++)
        {
            if (ordered[i].Prefix == ordered[i - 1].Prefix)
            {
                throw new InvalidOperationException($"More than one {role} is registered for the key prefix '{ordered[i].Prefix}'.");
            }
        }

        return ordered;
    }
}
