using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests.Caching;

/// <summary><c>Coordination:Cache:HotKeys</c> as <c>WithHotKeyWarming</c> binds and validates it at start.</summary>
public class HotKeyWarmingOptionsTests
{
    [Theory]
    [InlineData("KeysPerTenant", "0")]
    [InlineData("KeysPerTenant", "10001")]
    [InlineData("MaxTenants", "0")]
    [InlineData("TrackedKeys", "0")]
    [InlineData("SampleRate", "0")]
    [InlineData("ReportInterval", "00:00:00.010")]
    [InlineData("HalfLife", "00:00:00")]
    [InlineData("KeepFor", "00:00:00.500")]
    [InlineData("WarmTimeout", "00:10:00")]
    public async Task Start_InvalidOption_FailsNamingIt(string option, string value)
    {
        using var host = Build([new($"Coordination:Cache:HotKeys:{option}", value)]);

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains($"Coordination:Cache:HotKeys:{option}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_Twice_AddsTheHostedServicesOnce()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", "localhost:1")]);
        builder.AddCoordination().WithHotKeyWarming<string>().WithHotKeyWarming<string>();

        Assert.Single(builder.Services, d => d.ImplementationType == typeof(HotKeyReporter));
        Assert.Single(builder.Services, d => d.ImplementationType == typeof(HotKeyWarmup<string>));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(HotKeyReports));
    }

    private static IHost Build(KeyValuePair<string, string?>[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", "localhost:1,abortConnect=false,connectTimeout=100"), .. settings]);
        builder.AddCoordination().WithHotKeyWarming<string>();
        return builder.Build();
    }
}
