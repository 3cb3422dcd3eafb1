using System.Net;
using Coordination.Api.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Api.Tests.Authentication;

public sealed class FailedAuthenticationTrackerTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.10");

    [Fact]
    public void IsBlocked_AfterTheFailureLimitWithinTheWindow_IsTrueUntilTheWindowEnds()
    {
        var time = new FakeTimeProvider();
        var tracker = Tracker(time, failureLimit: 3, window: TimeSpan.FromMinutes(1));

        tracker.RecordFailure(Client);
        tracker.RecordFailure(Client);
        Assert.False(tracker.IsBlocked(Client, out _));
        time.Advance(TimeSpan.FromSeconds(20));
        tracker.RecordFailure(Client);

        Assert.True(tracker.IsBlocked(Client, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(40), retryAfter);
        Assert.False(tracker.IsBlocked(IPAddress.Parse("192.0.2.11"), out _));

        time.Advance(TimeSpan.FromSeconds(40));
        Assert.False(tracker.IsBlocked(Client, out _));
        tracker.RecordFailure(Client);
        Assert.False(tracker.IsBlocked(Client, out _));
    }

    [Fact]
    public void RecordFailure_BeyondMaxTrackedAddresses_DropsTheOldest()
    {
        var time = new FakeTimeProvider();
        var tracker = Tracker(time, failureLimit: 1, window: TimeSpan.FromMinutes(1), maxTracked: 2);

        tracker.RecordFailure(IPAddress.Parse("192.0.2.1"));
        time.Advance(TimeSpan.FromSeconds(1));
        tracker.RecordFailure(IPAddress.Parse("192.0.2.2"));
        time.Advance(TimeSpan.FromSeconds(1));
        tracker.RecordFailure(IPAddress.Parse("192.0.2.3"));

        Assert.Equal(2, tracker.Count);
        Assert.False(tracker.IsBlocked(IPAddress.Parse("192.0.2.1"), out _));
        Assert.True(tracker.IsBlocked(IPAddress.Parse("192.0.2.2"), out _));
        Assert.True(tracker.IsBlocked(IPAddress.Parse("192.0.2.3"), out _));
    }

    [Fact]
    public void RecordFailure_IPv6_CountsTheWhole64AndIPv4MappedAsIPv4()
    {
        var tracker = Tracker(new FakeTimeProvider(), failureLimit: 2, window: TimeSpan.FromMinutes(1));

        tracker.RecordFailure(IPAddress.Parse("2001:db8:1:2::1"));
        tracker.RecordFailure(IPAddress.Parse("2001:db8:1:2:ffff::9"));
        Assert.True(tracker.IsBlocked(IPAddress.Parse("2001:db8:1:2::77"), out _));
        Assert.False(tracker.IsBlocked(IPAddress.Parse("2001:db8:1:3::1"), out _));

        tracker.RecordFailure(IPAddress.Parse("::ffff:192.0.2.10"));
        tracker.RecordFailure(Client);
        Assert.True(tracker.IsBlocked(Client, out _));
    }

    private static FailedAuthenticationTracker Tracker(TimeProvider time, int failureLimit, TimeSpan window, int maxTracked = 100) =>
        new(Options.Create(new AuthenticationThrottleOptions { FailureLimit = failureLimit, Window = window, MaxTrackedAddresses = maxTracked }), time);
}
