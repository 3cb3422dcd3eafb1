namespace Coordination;

/// <summary>
/// The key segments a lock manager's locks live under. A caller's name always comes after the capability segment,
/// so no name can reach the platform's segments.
/// </summary>
internal sealed class LockNamespace
{
    public static readonly LockNamespace Tenant = new("lock", "semaphore", "lockgraph");

    public static readonly LockNamespace Platform = new("platform-lock", "platform-semaphore", "platform-lockgraph");

    private LockNamespace(string lockCapability, string semaphoreCapability, string graphCapability)
    {
        Lock = lockCapability;
        Semaphore = semaphoreCapability;
        Graph = graphCapability;
    }

    /// <summary>The capability segment of exclusive and read/write locks.</summary>
    public string Lock { get; }

    /// <summary>The capability segment of semaphores.</summary>
    public string Semaphore { get; }

    /// <summary>The capability segment of the wait-for graph.</summary>
    public string Graph { get; }
}
