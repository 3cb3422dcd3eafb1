using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests.Duties;

/// <summary>WithDuty's registrations and what the scheduler records of a failure, without Redis.</summary>
public class DutyRegistrationTests
{
    [Fact]
    public void WithDuty_SameNameTwice_RegistersOnceWithOneScheduler()
    {
        var builder = Builder([]);
        builder.AddCoordination().WithDuty("cleanup", TimeSpan.FromSeconds(5), _ => new NoDuty()).WithDuty("cleanup", TimeSpan.FromSeconds(9), _ => new NoDuty());
        builder.AddCoordination().WithDuty("purge", TimeSpan.FromSeconds(7), _ => new NoDuty());

        Assert.Equal(["cleanup", "purge"], builder.Services.Where(d => d.ServiceType == typeof(DutyRegistration)).Select(d => ((DutyRegistration)d.ImplementationInstance!).Name));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(DutyScheduler));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IDutyObserver));
    }

    [Fact]
    public void Options_DefaultIntervalFromRegistration_ConfigurationWins()
    {
        var builder = Builder([new("Coordination:Worker:Duties:purge:Interval", "00:00:03"), new("Coordination:Worker:Duties:purge:Enabled", "false")]);
        builder.AddCoordination()
            .WithDuty("cleanup", TimeSpan.FromSeconds(5), _ => new NoDuty())
            .WithDuty("purge", TimeSpan.FromSeconds(7), _ => new NoDuty());
        using var provider = builder.Services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<DutyOptions>>();

        Assert.Equal((TimeSpan.FromSeconds(5), true), (options.Get("cleanup").Interval, options.Get("cleanup").Enabled));
        Assert.Equal((TimeSpan.FromSeconds(3), false), (options.Get("purge").Interval, options.Get("purge").Enabled));
        Assert.Equal(TimeSpan.FromMinutes(5), options.Get("purge").Timeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("-leading")]
    [InlineData("with space")]
    [InlineData("slash/name")]
    public void WithDuty_InvalidName_ThrowsArgumentException(string name)
    {
        var coordination = Builder([]).AddCoordination();
        Assert.Throws<ArgumentException>(() => coordination.WithDuty(name, TimeSpan.FromSeconds(1), _ => new NoDuty()));
    }

    [Fact]
    public void Describe_RecordsTheTypeNeverTheMessage()
    {
        Assert.Equal("InvalidOperationException", DutyScheduler.Describe(new InvalidOperationException("tenant-a:orders:42 is broken")));
        Assert.Equal("TimeoutException", DutyScheduler.Describe(new AggregateException(new TimeoutException("secret"))));
        Assert.Equal("AggregateException", DutyScheduler.Describe(new AggregateException(new TimeoutException(), new InvalidDataException())));
    }

    private static HostApplicationBuilder Builder(KeyValuePair<string, string?>[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", "localhost:1"), .. settings]);
        return builder;
    }

    private sealed class NoDuty : IDuty
    {
        public Task RunAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
