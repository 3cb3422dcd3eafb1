using Coordination.Api.Apis;
using Coordination.Api.Models;

namespace Coordination.Api.Tests.Apis;

/// <summary>What <c>/status</c> renders per node and duty, without a server.</summary>
public sealed class StatusPageTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Render_StaleAndLiveNodes_MarkedPerNodeAndEncoded()
    {
        var status = StatusApi.WithNodes(
            StatusApi.ToResponse(new CoordinationStatus(true, 0.2, new ConnectionPoolStatus(1, 1, 0, 1, 4, []), CircuitState.Closed, new FallbackStatus(true, true, false, 0))),
            new NodeReportsSnapshot
            {
                ReadAt = At,
                Complete = false,
                Nodes =
                [
                    new NodeReport { Name = "api@h:1", Role = "api", Self = true, Circuit = new NodeCircuitReport { State = "open", Transitions = [new NodeCircuitTransition { State = "open", At = At }] }, Fallback = new NodeFallbackReport { Configured = true, Ready = true, Active = true, Operations = 3 } },
                    new NodeReport { Name = "<script>x</script>", Role = "worker", Stale = true, Version = "1.0.0+5cb02468415c6228399c", Cache = new NodeCacheReport { Memory = new NodeCacheLevelReport { Hits = 3, Misses = 1, HitRatio = 0.75 } } },
                ],
                Duties = [new NodeDutyReport { Name = "alerts", Result = "failed", Error = "<b>boom</b>", Runs = 2, Failures = 1 }],
            });

        var html = StatusPage.Render(status, 2);

        Assert.Contains("<meta http-equiv=\"refresh\" content=\"2\">", html, StringComparison.Ordinal);
        Assert.Contains("data-field=\"nodes-incomplete\"", html, StringComparison.Ordinal);
        Assert.Contains("<tr data-node=\"api@h:1\" data-self=\"true\" data-stale=\"false\">", html, StringComparison.Ordinal);
        Assert.Contains("<td data-field=\"circuit\" class=\"bad\">open</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td data-field=\"fallback\" class=\"warn\">engaged (serving), 3 served, 0 to mirror</td>", html, StringComparison.Ordinal);
        Assert.Contains("<tr class=\"stale\" data-node=\"&lt;script&gt;x&lt;/script&gt;\" data-self=\"false\" data-stale=\"true\">", html, StringComparison.Ordinal);
        Assert.Contains("stale: stopped reporting", html, StringComparison.Ordinal);
        Assert.Contains("L1 75 % (3/4), L2 &ndash;", html, StringComparison.Ordinal);
        Assert.Contains(">1.0.0&#x2B;5cb0246</td>", html, StringComparison.Ordinal);
        Assert.Contains("failed: &lt;b&gt;boom&lt;/b&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>boom", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Coarse_NoNodes()
    {
        var status = new StatusResponse("healthy", null, null, null, null) { Nodes = [new NodeReport { Name = "n" }] }.Coarse();

        Assert.Null(status.Nodes);
        Assert.DoesNotContain("data-node", StatusPage.Render(status), StringComparison.Ordinal);
    }
}
