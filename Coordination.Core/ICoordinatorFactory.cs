namespace Coordination;

/// <summary>Gives the <see cref="IRedisCoordinator"/> of a tenant. Thread-safe.</summary>
public interface ICoordinatorFactory
{
    /// <summary>Returns the coordinator of <paramref name="tenant"/> (the same instance for the same tenant).</summary>
    /// <exception cref="ArgumentException">The tenant is not 1..64 characters of letters, digits, '.', '_' or '-'.</exception>
    IRedisCoordinator ForTenant(string tenant);
}
