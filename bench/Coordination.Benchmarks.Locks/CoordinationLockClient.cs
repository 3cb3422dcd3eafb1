namespace Coordination.Benchmarks.Locks;

/// <summary>Our <see cref="IDistributedLockManager"/>, resolved from a host built with <c>AddCoordination()</c>.</summary>
internal sealed class CoordinationLockClient(IDistributedLockManager manager, string name, bool fair, string description) : ILockClient
{
    public const string Defaults =
        "`IDistributedLockManager.TryAcquireAsync(name)` with default options (TTL 30 s, no wait, `AutoRenew` off by default: no watchdog; " +
        "owner = the calling async flow, re-entrant; deadlock detection on), `DisposeAsync` to release (Lua, owner-checked, publishes a release " +
        "message when someone waits); waiting: `AcquireAsync(name, new LockOptions { WaitTimeout = wait })` (woken by the release message, " +
        "re-checks at least every 500 ms).";

    private LockOptions? _waiting;

    public string Name { get; } = name;

    public string Description { get; } = description;

    public async ValueTask<IAsyncDisposable?> TryAcquireAsync(string lockName, CancellationToken cancellationToken) =>
        await manager.TryAcquireAsync(lockName, options: null, cancellationToken);

    public async ValueTask<IAsyncDisposable?> AcquireAsync(string lockName, TimeSpan wait, CancellationToken cancellationToken)
    {
        // One options instance for every call with the same wait (the library allows sharing it while nobody changes it).
        var options = _waiting is { } shared && shared.WaitTimeout == wait ? shared : _waiting = new LockOptions { WaitTimeout = wait, Fair = fair };
        try
        {
            return await manager.AcquireAsync(lockName, options, cancellationToken);
        }
        catch (LockTimeoutException)
        {
            return null;
        }
    }
}
