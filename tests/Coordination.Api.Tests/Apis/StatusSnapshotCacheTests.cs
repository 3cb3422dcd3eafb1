using System.Net;
using Coordination.Api.Apis;
using Coordination.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Api.Tests.Apis;

/// <summary>Status calls cannot be used to load Redis: one probe in flight, reused for <c>Coordination:Status:CacheDuration</c>.</summary>
public sealed class StatusSnapshotCacheTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task GetStatusAsync_ConcurrentCallers_ShareOneProbe()
    {
        var monitor = new ControlledMonitor();
        var cache = new StatusSnapshotCache(monitor, Options.Create(new StatusOptions()), new FakeTimeProvider());

        var callers = Enumerable.Range(0, 20).Select(_ => cache.GetStatusAsync(Cancellation)).ToArray();
        Assert.Equal(1, monitor.Calls);

        monitor.Complete(await RealStatusAsync());
        var answers = await Task.WhenAll(callers);
        Assert.All(answers, answer => Assert.Same(answers[0], answer));
        Assert.Equal(1, monitor.Calls);
    }

    [Fact]
    public async Task GetStatusAsync_WithinCacheDuration_ReusesTheSnapshotThenProbesAgain()
    {
        var time = new FakeTimeProvider();
        var monitor = new ControlledMonitor();
        monitor.Complete(await RealStatusAsync());
        var cache = new StatusSnapshotCache(monitor, Options.Create(new StatusOptions { CacheDuration = TimeSpan.FromSeconds(1) }), time);

        await cache.GetStatusAsync(Cancellation);
        time.Advance(TimeSpan.FromMilliseconds(999));
        await cache.GetStatusAsync(Cancellation);
        Assert.Equal(1, monitor.Calls);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await cache.GetStatusAsync(Cancellation);
        Assert.Equal(2, monitor.Calls);
    }

    [Fact]
    public async Task GetStatusAsync_AfterAFailedProbe_ProbesAgain()
    {
        var monitor = new ControlledMonitor();
        monitor.Fail(new InvalidOperationException("probe failed"));
        var cache = new StatusSnapshotCache(monitor, Options.Create(new StatusOptions()), new FakeTimeProvider());

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetStatusAsync(Cancellation));
        monitor.Reset();
        monitor.Complete(await RealStatusAsync());
        await cache.GetStatusAsync(Cancellation);
        Assert.Equal(2, monitor.Calls);
    }

    [Fact]
    public async Task GetStatus_WithinCacheDuration_AnswersTheSameSnapshot()
    {
        await using var api = ApiFactory.StartOnKestrel(
            Fixture.Redis.ConnectionString, new Dictionary<string, string?> { ["Coordination:Status:CacheDuration"] = "00:01:00" });
        using var client = api.CreateApiClient(ApiFactory.AdminKey);

        var first = await GetOkAsync(client, new Uri("/v1/status", UriKind.Relative));
        using (var response = await client.GetAsync(new Uri("/status", UriKind.Relative), Cancellation))
        {
            await AssertStatusAsync(response, HttpStatusCode.OK);
        }

        var second = await GetOkAsync(client, new Uri("/v1/status", UriKind.Relative));
        Assert.Equal(first.GetProperty("redis").GetRawText(), second.GetProperty("redis").GetRawText());
    }

    private Task<CoordinationStatus> RealStatusAsync() =>
        Fixture.Api.Services.GetRequiredService<ICoordinationMonitor>().GetStatusAsync(Cancellation);

    private sealed class ControlledMonitor : ICoordinationMonitor
    {
        private TaskCompletionSource<CoordinationStatus> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public void Complete(CoordinationStatus status) => _next.SetResult(status);

        public void Fail(Exception exception) => _next.SetException(exception);

        public void Reset() => _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<CoordinationStatus> GetStatusAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return _next.Task;
        }
    }
}
