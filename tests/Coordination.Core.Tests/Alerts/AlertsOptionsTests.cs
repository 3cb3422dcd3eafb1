using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests.Alerts;

public sealed class AlertsOptionsTests
{
    [Theory]
    [InlineData("Coordination:Alerts:Webhooks:0:Url", "not a url", "Coordination:Alerts:Webhooks:0:Url")]
    [InlineData("Coordination:Alerts:Webhooks:0:Url", "ftp://example.org/x", "Coordination:Alerts:Webhooks:0:Url")]
    [InlineData("Coordination:Alerts:EvaluationInterval", "00:00:00.001", "EvaluationInterval")]
    [InlineData("Coordination:Alerts:RepeatInterval", "00:00:01", "RepeatInterval")]
    [InlineData("Coordination:Alerts:NodeTimeout", "00:00:06", "NodeTimeout")]
    [InlineData("Coordination:Alerts:NodeName", "two words", "NodeName")]
    [InlineData("Coordination:Alerts:DeliveryRetries", "11", "DeliveryRetries")]
    [InlineData("Coordination:Alerts:DeliveryQueueCapacity", "0", "DeliveryQueueCapacity")]
    [InlineData("Coordination:Alerts:LatencyThreshold", "00:00:00", "LatencyThreshold")]
    public async Task StartAsync_BadAlertsOption_FailsNamingIt(string key, string value, string named)
    {
        // The other settings keep their defaults (EvaluationInterval 5 s, so RepeatInterval 1 s and NodeTimeout 6 s break the cross-field rules).
        using var host = BuildHost([new(key, value)]);

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(AlertsOptions), ex.OptionsType);
    }

    [Fact]
    public void Bind_WebhooksFromConfiguration_AllKept()
    {
        using var host = BuildHost(
        [
            new("Coordination:Alerts:Webhooks:0:Url", "http://hooks.example/a"),
            new("Coordination:Alerts:Webhooks:1:Url", "https://hooks.example/b"),
        ]);

        var options = host.Services.GetRequiredService<IOptions<AlertsOptions>>().Value;

        Assert.Equal(["http://hooks.example/a", "https://hooks.example/b"], options.Webhooks.Select(w => w.Url));
    }

    [Fact]
    public void Validate_SeventeenWebhooks_Refused()
    {
        var options = new AlertsOptions();
        for (var i = 0; i < 17; i++)
        {
            options.Webhooks.Add(new AlertWebhookOptions { Url = $"http://hooks.example/{i}" });
        }

        var result = new AlertsOptionsRules().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("at most 16", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_Succeed() =>
        Assert.True(new AlertsOptionsRules().Validate(null, new AlertsOptions()).Succeeded);

    [Fact]
    public void WithAlerts_CalledTwice_RegistersOneRuntime()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", $"127.0.0.1:{UnreachableRedis.FreeLoopbackPort()}")]);
        builder.AddCoordination().WithAlerts().WithAlerts();

        Assert.Single(builder.Services, d => d.ServiceType == typeof(AlertRuntime));
        Assert.Single(builder.Services, d => d.ImplementationType == typeof(AlertsHost));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IAlertConditions));
    }

    [Fact]
    public void DefaultNodeName_HasOnlyAllowedCharacters()
    {
        var name = AlertsExtensions.DefaultNodeName("My App/1");

        Assert.Matches("^[A-Za-z0-9._:-]{1,128}$", name);
        Assert.StartsWith("My-App-1-", name, StringComparison.Ordinal);
    }

    private static IHost BuildHost(KeyValuePair<string, string?>[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", $"127.0.0.1:{UnreachableRedis.FreeLoopbackPort()}"), .. settings]);
        builder.AddCoordination().WithAlerts();
        return builder.Build();
    }
}
