using Microsoft.Extensions.Configuration;

namespace Coordination.Core.Tests.Nodes;

public sealed class NodeIdentityTests
{
    [Fact]
    public void Create_ServiceNameSet_NameIsServiceHostAndProcessId()
    {
        var identity = NodeIdentity.Create(new NodeReportOptions { ServiceName = "api", Role = "api" }, Configuration(("OTEL_SERVICE_NAME", "ignored")), null);

        Assert.Matches(@"^api@[A-Za-z0-9._-]{1,64}:\d+$", identity.Name);
        Assert.EndsWith(":" + Environment.ProcessId, identity.Name, StringComparison.Ordinal);
        Assert.Equal("api", identity.Role);
        Assert.False(string.IsNullOrEmpty(identity.Version));
        Assert.True(identity.StartedAt <= DateTimeOffset.UtcNow);
    }

    [Fact]
    public void Create_NoServiceName_TakesTheOpenTelemetryServiceNameCleaned()
    {
        var identity = NodeIdentity.Create(new NodeReportOptions(), Configuration(("OTEL_SERVICE_NAME", "my api<script>")), null);

        Assert.StartsWith("my-api-script-@", identity.Name, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
