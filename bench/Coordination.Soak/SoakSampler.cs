using System.Diagnostics;
using System.Diagnostics.Metrics;
using Npgsql;
using StackExchange.Redis;

namespace Coordination.Soak;

/// <summary>
/// Takes the samples: this process (working set, GC heap as <see cref="GC.GetTotalMemory(bool)"/> reads it without
/// forcing a collection, collection counts, threads), the coordinator's pool (the <c>coordination.pool.connections</c>
/// gauge, state <c>open</c>, through a <see cref="MeterListener"/>: the pool itself is internal), Redis (<c>INFO
/// clients</c> and <c>INFO memory</c> on an admin connection of its own) and PostgreSQL (<c>pg_stat_activity</c> of the
/// database, client backends only so an autovacuum worker passing through is not counted, on a connection of its own,
/// which counts itself: one, the same in every sample).
/// </summary>
internal sealed class SoakSampler : IAsyncDisposable
{
    private const string PoolInstrument = "coordination.pool.connections";

    private readonly IServer _redis;
    private readonly NpgsqlConnection? _postgres;
    private readonly MeterListener _listener = new();
    private readonly Process _process = Process.GetCurrentProcess();
    private int? _poolReading;

    public SoakSampler(IServer redis, NpgsqlConnection? postgres)
    {
        _redis = redis;
        _postgres = postgres;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == CoordinationDiagnostics.MeterName && instrument.Name == PoolInstrument)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "coordination.connection.state", Value: "open" })
                {
                    _poolReading = (_poolReading ?? 0) + value;
                }
            }
        });
        _listener.Start();
    }

    /// <summary>The open connections of the pool as the gauge reports them; null when no pool published the gauge.</summary>
    public int? PoolConnections()
    {
        lock (_listener)
        {
            _poolReading = null;
            _listener.RecordObservableInstruments();
            return _poolReading;
        }
    }

    public async Task<Sample> TakeAsync(TimeSpan elapsed, double operationsPerSecond, long errors, CancellationToken cancellationToken)
    {
        _process.Refresh();
        var clients = Field(await _redis.InfoAsync("clients"), "connected_clients");
        var memory = Field(await _redis.InfoAsync("memory"), "used_memory");
        long? postgres = null;
        if (_postgres is not null)
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'", _postgres);
            postgres = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        return new Sample(
            elapsed,
            operationsPerSecond,
            errors,
            _process.WorkingSet64,
            GC.GetTotalMemory(forceFullCollection: false),
            OldGeneration(),
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2),
            _process.Threads.Count,
            PoolConnections(),
            clients,
            memory,
            postgres);
    }

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Gen2, LOH and POH after the latest full collection, background (the concurrent GC's usual gen2) or blocking; the
    /// heap as the last collection of any kind left it while there was no full one yet.
    /// </summary>
    private static long OldGeneration()
    {
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var full = background.Index >= blocking.Index ? background : blocking;
        if (full.Index == 0)
        {
            return GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes;
        }

        var generations = full.GenerationInfo;
        return generations[2].SizeAfterBytes + generations[3].SizeAfterBytes + generations[4].SizeAfterBytes;
    }

    private static long Field(IGrouping<string, KeyValuePair<string, string>>[] info, string name) =>
        long.Parse(
            info.SelectMany(group => group).FirstOrDefault(field => field.Key == name).Value ?? throw new InvalidOperationException($"INFO has no {name}."),
            System.Globalization.CultureInfo.InvariantCulture);
}
