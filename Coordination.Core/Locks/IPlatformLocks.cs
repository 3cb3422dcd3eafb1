namespace Coordination;

/// <summary>
/// Locks the platform takes for itself (cache single-flight, warming, cleanup and leader locks). They live in a
/// namespace of each tenant that no caller can name, so a tenant's lock can never block or take over one of them.
/// </summary>
internal interface IPlatformLocks
{
    /// <summary>The platform's lock manager in <paramref name="tenant"/>'s key space.</summary>
    IDistributedLockManager For(string tenant);
}
