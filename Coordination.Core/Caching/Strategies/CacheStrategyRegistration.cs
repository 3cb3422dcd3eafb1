namespace Coordination;

/// <summary>One <c>WithReadThrough</c>/<c>WithWriteThrough</c>/<c>WithWriteBehind</c> call, resolved when <see cref="IBackedCache"/> is first used.</summary>
internal sealed class CacheStrategyRegistration(Func<IServiceProvider, CacheStrategy> create)
{
    public CacheStrategy Create(IServiceProvider services) => create(services);
}
