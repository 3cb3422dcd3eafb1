using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Coordination.Core.Tests.Resilience;

public sealed class CoordinationEventsTests : IDisposable
{
    private readonly TestMeterFactory _meterFactory = new();
    private readonly FakeLogger<CoordinationEvents> _logger = new();
    private readonly CoordinationEvents _events;
    private readonly MetricCollector<long> _counted;

    public CoordinationEventsTests()
    {
        var metrics = new CoordinationMetrics(_meterFactory);
        _events = new CoordinationEvents(metrics, _logger);
        _counted = new MetricCollector<long>(metrics.Meter, "coordination.events");
    }

    public void Dispose()
    {
        _counted.Dispose();
        _meterFactory.Dispose();
    }

    private static readonly ConnectionEventArgs Lost = new(1, "127.0.0.1:6379", "SocketFailure", new IOException("reset"));
    private static readonly ConnectionEventArgs Restored = new(1, "127.0.0.1:6379", "None", null);
    private static readonly CircuitEventArgs Opened = new(CircuitState.Open, TimeSpan.FromSeconds(2), new TimeoutException());
    private static readonly CircuitEventArgs Closed = new(CircuitState.Closed, null, null);
    private static readonly FallbackEventArgs Engaged = new("kv.get", new TimeoutException());
    private static readonly FallbackEventArgs Recovered = new("recovery", null, replayedWrites: 3);

    [Fact]
    public void OnConnectionLost_RaisesLogsAndCounts()
    {
        object? sender = null;
        ConnectionEventArgs? seen = null;
        _events.ConnectionLost += (s, e) => (sender, seen) = (s, e);

        _events.OnConnectionLost(Lost);

        Assert.Same(_events, sender);
        Assert.Same(Lost, seen);
        AssertCounted("connection_lost");
        var log = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.Equal(new EventId(1000, "ConnectionLost"), log.Id);
        Assert.Same(Lost.Exception, log.Exception);
    }

    [Fact]
    public void EachEvent_RaisesItsOwnHandlerAndMetric()
    {
        var raised = new List<string>();
        _events.ConnectionLost += (_, _) => raised.Add("lost");
        _events.ConnectionRestored += (_, _) => raised.Add("restored");
        _events.CircuitOpened += (_, e) => raised.Add($"opened {e.BreakDuration}");
        _events.CircuitClosed += (_, _) => raised.Add("closed");
        _events.FallbackEngaged += (_, e) => raised.Add($"engaged {e.Operation}");
        _events.FallbackRecovered += (_, e) => raised.Add($"recovered {e.ReplayedWrites}");

        _events.OnConnectionLost(Lost);
        _events.OnConnectionRestored(Restored);
        _events.OnCircuitOpened(Opened);
        _events.OnCircuitHalfOpened();
        _events.OnCircuitClosed(Closed);
        _events.OnFallbackEngaged(Engaged);
        _events.OnFallbackRecovered(Recovered);
        _events.RecordForcedReconnect();

        Assert.Equal(["lost", "restored", "opened 00:00:02", "closed", "engaged kv.get", "recovered 3"], raised);
        Assert.Equal(
            ["connection_lost", "connection_restored", "circuit_opened", "circuit_half_opened", "circuit_closed", "fallback_engaged", "fallback_recovered", "connection_replaced"],
            _counted.GetMeasurementSnapshot().Select(m => (string)m.Tags["coordination.event"]!));
        Assert.All(_counted.GetMeasurementSnapshot(), m => Assert.Equal(1, m.Value));
        Assert.Equal(
            [1000, 1001, 1100, 1102, 1101, 1200, 1201],
            _logger.Collector.GetSnapshot().Select(r => r.Id.Id));
    }

    [Fact]
    public void Raise_ThrowingHandler_OthersStillRunAndErrorLogged()
    {
        var calls = new List<int>();
        _events.CircuitOpened += (_, _) => calls.Add(1);
        _events.CircuitOpened += (_, _) => throw new InvalidOperationException("subscriber bug");
        _events.CircuitOpened += (_, _) => calls.Add(3);

        _events.OnCircuitOpened(Opened);

        Assert.Equal([1, 3], calls);
        AssertCounted("circuit_opened");
        var failure = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == 1007);
        Assert.Equal(LogLevel.Error, failure.Level);
        Assert.Equal("subscriber bug", failure.Exception?.Message);
    }

    [Fact]
    public void Raise_EveryHandlerThrows_DoesNotThrow()
    {
        _events.FallbackEngaged += (_, _) => throw new InvalidOperationException("one");
        _events.FallbackEngaged += (_, _) => throw new ArgumentException("two");

        _events.OnFallbackEngaged(Engaged);

        Assert.Equal(2, _logger.Collector.GetSnapshot().Count(r => r.Id.Id == 1007));
    }

    [Fact]
    public void Raise_NoHandlers_StillCountedAndLogged()
    {
        _events.OnConnectionRestored(Restored);

        AssertCounted("connection_restored");
        Assert.Equal(1001, Assert.Single(_logger.Collector.GetSnapshot()).Id.Id);
    }

    [Fact]
    public void Unsubscribe_HandlerNoLongerCalled()
    {
        var calls = 0;
        void Handler(object? sender, CircuitEventArgs e) => calls++;
        _events.CircuitClosed += Handler;
        _events.OnCircuitClosed(Closed);

        _events.CircuitClosed -= Handler;
        _events.OnCircuitClosed(Closed);

        Assert.Equal(1, calls);
        Assert.Equal(2, _counted.GetMeasurementSnapshot().Count);
    }

    [Fact]
    public void Metrics_CarryOnlyTheEventTag()
    {
        _events.OnConnectionLost(Lost);
        _events.OnFallbackEngaged(Engaged);

        // Endpoints, operations and exceptions stay out of metric tags (cardinality).
        Assert.All(_counted.GetMeasurementSnapshot(), m => Assert.Equal(["coordination.event"], m.Tags.Keys));
    }

    [Fact]
    public void Instrument_HasDescriptionAndUnit()
    {
        Assert.NotNull(_counted.Instrument);
        Assert.Equal("{event}", _counted.Instrument.Unit);
        Assert.False(string.IsNullOrWhiteSpace(_counted.Instrument.Description));
        Assert.Equal(CoordinationDiagnostics.MeterName, _counted.Instrument.Meter.Name);
    }

    private void AssertCounted(string name)
    {
        var measurement = Assert.Single(_counted.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal(name, measurement.Tags["coordination.event"]);
    }
}
