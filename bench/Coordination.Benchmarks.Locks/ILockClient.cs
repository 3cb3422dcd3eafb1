namespace Coordination.Benchmarks.Locks;

/// <summary>One way of taking an exclusive Redis lock, as an application would call it.</summary>
internal interface ILockClient
{
    /// <summary>The name in the report's tables.</summary>
    string Name { get; }

    /// <summary>What the client does per acquisition and release, and the settings it runs with (for the report).</summary>
    string Description { get; }

    /// <summary>One attempt, no wait. Returns the handle (dispose to release) or <see langword="null"/> when the lock is taken.</summary>
    ValueTask<IAsyncDisposable?> TryAcquireAsync(string name, CancellationToken cancellationToken);

    /// <summary>Waits up to <paramref name="wait"/>. Returns the handle, or <see langword="null"/> when the wait ran out.</summary>
    ValueTask<IAsyncDisposable?> AcquireAsync(string name, TimeSpan wait, CancellationToken cancellationToken);
}
