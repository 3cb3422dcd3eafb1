using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>The registrations of <c>WithNodeReports</c> (on a service collection that <c>AddCoordination</c> filled).</summary>
internal static class NodeReportRegistration
{
    public static void Add(IServiceCollection services, string role, Action<NodeReportOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(role);
        if (role is not { Length: >= 1 and <= 32 } || !role.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            throw new ArgumentException("The role must be 1..32 lowercase letters, digits or '-'.", nameof(role));
        }

        var options = services.AddOptions<NodeReportOptions>().BindConfiguration(NodeReportOptions.SectionName).Configure(o => o.Role = role);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NodeReportOptions>, NodeReportOptionsRules>());
        services.TryAddSingleton(sp => NodeIdentity.Create(
            sp.GetRequiredService<IOptions<NodeReportOptions>>().Value,
            sp.GetRequiredService<IConfiguration>(),
            sp.GetService<IHostEnvironment>()));
        services.TryAddSingleton(sp => new NodeMetrics(sp.GetRequiredService<CoordinationMetrics>()));
        services.TryAddSingleton(sp => new NodeReportStore(
            sp.GetRequiredService<RedisExecutor>(),
            new NodeKeys(sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.KeyPrefix),
            sp.GetRequiredService<IOptions<NodeReportOptions>>().Value,
            sp.GetRequiredService<ILogger<NodeReportStore>>()));
        services.TryAddSingleton(sp => new NodeReportCollector(
            sp.GetRequiredService<ICoordinationMonitor>(),
            sp.GetRequiredService<RedisExecutor>(),
            sp.GetRequiredService<LockRuntime>(),
            sp.GetRequiredService<CoordinationMetrics>(),
            sp.GetRequiredService<ICoordinationEvents>(),
            sp.GetServices<INodeReportSection>(),
            sp.GetRequiredService<NodeIdentity>(),
            sp.GetRequiredService<IOptions<NodeReportOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<NodeReportCollector>>()));
        services.TryAddSingleton<INodeReports>(sp => new NodeReportReader(
            sp.GetRequiredService<NodeReportStore>(),
            sp.GetRequiredService<NodeReportCollector>(),
            sp.GetRequiredService<IOptions<NodeReportOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<NodeReportReader>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, NodeReporter>(sp => new NodeReporter(
            sp.GetRequiredService<NodeReportCollector>(),
            sp.GetRequiredService<NodeReportStore>(),
            sp.GetRequiredService<NodeMetrics>(),
            sp.GetRequiredService<IOptions<NodeReportOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<NodeReporter>>())));
    }
}
