using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination;

internal sealed class CoordinationBuilder(IHostApplicationBuilder hostBuilder, string connectionName) : ICoordinationBuilder
{
    public IHostApplicationBuilder HostBuilder { get; } = hostBuilder;

    public IServiceCollection Services => HostBuilder.Services;

    public string ConnectionName { get; } = connectionName;
}
