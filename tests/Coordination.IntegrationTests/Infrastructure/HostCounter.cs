using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>Sums one counter of the <c>Coordination</c> meter of one host (other hosts run in parallel).</summary>
internal sealed class HostCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public HostCounter(CoordinationTestHost host, string instrument)
    {
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (i, l) =>
        {
            if (i.Name == instrument && ReferenceEquals(i.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(i);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
