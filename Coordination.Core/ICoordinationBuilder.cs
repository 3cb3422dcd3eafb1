using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination;

/// <summary>Returned by <c>AddCoordination</c>; capabilities are added to it.</summary>
public interface ICoordinationBuilder
{
    /// <summary>The host builder the platform was added to.</summary>
    IHostApplicationBuilder HostBuilder { get; }

    /// <summary>The services of the host.</summary>
    IServiceCollection Services { get; }

    /// <summary>The name of the Redis connection string.</summary>
    string ConnectionName { get; }
}
