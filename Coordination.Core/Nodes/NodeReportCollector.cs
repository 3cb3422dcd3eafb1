using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>
/// Collects this node's report from what the capabilities already expose: the monitor (PING, pool, circuit,
/// fallback), the lock runtime's holds, the circuit events, and the instruments of this host's <c>Coordination</c>
/// meter (cache lookups, rate-limit decisions, live sessions, fallback operations), read with a
/// <see cref="MeterListener"/> so no capability keeps a second set of counters for it.
/// </summary>
internal sealed class NodeReportCollector : IDisposable
{
    public const int MaxSectionBytes = 4096;
    public const int MaxSections = 16;

    private const int CacheRequests = 0;
    private const int RateLimitDecisions = 1;
    private const int LocalRateLimitDecisions = 2;
    private const int ActiveSessionsGauge = 3;
    private const int FallbackOperations = 4;

    private static readonly Dictionary<string, int> Instruments = new(StringComparer.Ordinal)
    {
        ["coordination.cache.requests"] = CacheRequests,
        ["coordination.ratelimit.decisions"] = RateLimitDecisions,
        ["coordination.ratelimit.local.decisions"] = LocalRateLimitDecisions,
        ["coordination.sessions.active"] = ActiveSessionsGauge,
        ["coordination.fallback.operations"] = FallbackOperations,
    };

    private readonly ICoordinationMonitor _monitor;
    private readonly RedisExecutor _executor;
    private readonly LockRuntime _locks;
    private readonly ICoordinationEvents _events;
    private readonly INodeReportSection[] _sections;
    private readonly NodeReportOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MeterListener _listener;
    private readonly Lock _transitionsGate = new();
    private readonly Queue<NodeCircuitTransition> _transitions = new();
    private readonly Lock _collectGate = new();
    private CircuitState? _lastCircuit;
    private long _memoryHits;
    private long _memoryMisses;
    private long _redisHits;
    private long _redisMisses;
    private long _allowed;
    private long _rejected;
    private long _unavailable;
    private long _activeSessions = -1;
    private long _fallbackOperations;
    private long _reportedAt = long.MinValue;

    public NodeReportCollector(
        ICoordinationMonitor monitor,
        RedisExecutor executor,
        LockRuntime locks,
        CoordinationMetrics metrics,
        ICoordinationEvents events,
        IEnumerable<INodeReportSection> sections,
        NodeIdentity identity,
        IOptions<NodeReportOptions> options,
        TimeProvider time,
        ILogger<NodeReportCollector> logger)
    {
        _monitor = monitor;
        _executor = executor;
        _locks = locks;
        _events = events;
        _sections = [.. sections];
        Identity = identity;
        _options = options.Value;
        _time = time;
        _logger = logger;

        // Only this host's meter: several hosts in one process (tests, a library in an app) each count their own.
        var meter = metrics.Meter;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && Instruments.TryGetValue(instrument.Name, out var id))
                {
                    listener.EnableMeasurementEvents(instrument, id);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();

        _events.CircuitOpened += OnCircuitChanged;
        _events.CircuitClosed += OnCircuitChanged;
    }

    public NodeIdentity Identity { get; }

    /// <summary>When this node's report was last written (Redis's clock); null before the first.</summary>
    public DateTimeOffset? ReportedAt =>
        Interlocked.Read(ref _reportedAt) is var at and > long.MinValue ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null;

    public void MarkReported(long redisMilliseconds) => Interlocked.Exchange(ref _reportedAt, redisMilliseconds);

    /// <summary>This node's report now; a PING bounded by <see cref="HealthOptions.ProbeTimeout"/>, sections bounded by the interval.</summary>
    public async Task<NodeReport> CollectAsync(CancellationToken cancellationToken)
    {
        var status = await _monitor.GetStatusAsync(cancellationToken);
        NoteCircuit(status.Circuit);
        lock (_collectGate)
        {
            // Reads the observable instruments (live sessions) into the fields; one caller at a time.
            _listener.RecordObservableInstruments();
        }

        var (held, oldest) = _locks.HeldSummary();
        var sections = await CollectSectionsAsync(cancellationToken);
        return new NodeReport
        {
            Name = Identity.Name,
            Role = Identity.Role,
            Version = Identity.Version,
            StartedAt = Identity.StartedAt,
            ReportedAt = ReportedAt,
            IntervalMs = (long)_options.Interval.TotalMilliseconds,
            Redis = new NodeRedisReport
            {
                Connected = status.Connected,
                LatencyMs = status.LatencyMilliseconds,
                PoolSize = status.Pool.Size,
                PoolConnected = status.Pool.Connected,
                Outstanding = status.Pool.Outstanding,
                MinConnections = status.Pool.MinConnections,
                MaxConnections = status.Pool.MaxConnections,
                Connections = [.. status.Pool.Connections.Select(c => new NodeConnectionReport
                {
                    Id = c.Id,
                    Connected = c.Connected,
                    Outstanding = c.Outstanding,
                    Operations = c.Operations,
                    Failures = c.Failures,
                    LastPingMs = c.LastPingMilliseconds,
                })],
            },
            Circuit = new NodeCircuitReport { State = StateWord(status.Circuit), Transitions = Transitions() },
            Fallback = new NodeFallbackReport
            {
                Configured = status.Fallback.Configured,
                Ready = status.Fallback.Ready,
                Active = status.Fallback.Active,
                Operations = Interlocked.Read(ref _fallbackOperations),
                MirrorBacklog = status.Fallback.MirrorBacklog,
                MirrorBehind = status.Fallback.MirrorBehind,
                MirrorDroppedWrites = status.Fallback.MirrorDroppedWrites,
            },
            Locks = new NodeLocksReport
            {
                Held = held,
                OldestHeldMs = oldest is { } since ? (long)_time.GetElapsedTime(since).TotalMilliseconds : null,
            },
            Cache = new NodeCacheReport
            {
                Memory = Level(Interlocked.Read(ref _memoryHits), Interlocked.Read(ref _memoryMisses)),
                Redis = Level(Interlocked.Read(ref _redisHits), Interlocked.Read(ref _redisMisses)),
            },
            ActiveSessions = Interlocked.Read(ref _activeSessions) is var active and >= 0 ? active : null,
            RateLimits = new NodeRateLimitReport
            {
                Allowed = Interlocked.Read(ref _allowed),
                Rejected = Interlocked.Read(ref _rejected),
                Unavailable = Interlocked.Read(ref _unavailable),
            },
            Sections = sections,
        };
    }

    public static string StateWord(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half-open",
        CircuitState.Isolated => "isolated",
        _ => "unknown",
    };

    public void Dispose()
    {
        _events.CircuitOpened -= OnCircuitChanged;
        _events.CircuitClosed -= OnCircuitChanged;
        _listener.Dispose();
    }

    private static NodeCacheLevelReport Level(long hits, long misses) => new()
    {
        Hits = hits,
        Misses = misses,
        HitRatio = hits + misses == 0 ? null : Math.Round((double)hits / (hits + misses), 4),
    };

    private async Task<IReadOnlyDictionary<string, JsonElement>> CollectSectionsAsync(CancellationToken cancellationToken)
    {
        var sections = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var section in _sections.Take(MaxSections))
        {
            var name = section.Name;
            if (name is not { Length: >= 1 and <= 32 } || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') || sections.ContainsKey(name))
            {
                NodesLog.SectionFailed(_logger, name ?? "(null)", new ArgumentException("A section's name must be 1..32 lowercase letters, digits or '-', and unique."));
                continue;
            }

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_options.Interval);
                var content = await section.CollectAsync(timeout.Token);
                if (content is null)
                {
                    continue;
                }

                var json = JsonSerializer.SerializeToUtf8Bytes(content, content.GetType(), NodeReportJson.Options);
                if (json.Length > MaxSectionBytes)
                {
                    NodesLog.SectionTooLarge(_logger, name, json.Length, MaxSectionBytes);
                    continue;
                }

                sections[name] = JsonDocument.Parse(json).RootElement.Clone();
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // A section is another capability's code: its failure costs its section, never the report.
                NodesLog.SectionFailed(_logger, name, ex);
            }
        }

        return sections;
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        switch ((int)state!)
        {
            case CacheRequests:
                var memory = Tag(tags, "coordination.cache.level") == "l1";
                var hit = Tag(tags, "coordination.cache.result") == "hit";
                if (memory)
                {
                    Interlocked.Add(ref hit ? ref _memoryHits : ref _memoryMisses, value);
                }
                else
                {
                    Interlocked.Add(ref hit ? ref _redisHits : ref _redisMisses, value);
                }

                break;
            case RateLimitDecisions:
            case LocalRateLimitDecisions:
                switch (Tag(tags, "coordination.ratelimit.outcome"))
                {
                    case "allowed":
                        Interlocked.Add(ref _allowed, value);
                        break;
                    case "refused":
                        Interlocked.Add(ref _rejected, value);
                        break;
                    default:
                        Interlocked.Add(ref _unavailable, value);
                        break;
                }

                break;
            case ActiveSessionsGauge:
                Interlocked.Exchange(ref _activeSessions, value);
                break;
            case FallbackOperations:
                Interlocked.Add(ref _fallbackOperations, value);
                break;
        }
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    private void OnCircuitChanged(object? sender, CircuitEventArgs args) => NoteCircuit(args.State);

    // Events give opened and closed; the state sampled at each report adds what has no event (half-open, isolated).
    private void NoteCircuit(CircuitState state)
    {
        lock (_transitionsGate)
        {
            if (_lastCircuit == state || (_lastCircuit is null && state == CircuitState.Closed))
            {
                _lastCircuit = state;
                return;
            }

            _lastCircuit = state;
            _transitions.Enqueue(new NodeCircuitTransition { State = StateWord(state), At = _time.GetUtcNow() });
            while (_transitions.Count > _options.MaxCircuitTransitions)
            {
                _transitions.Dequeue();
            }
        }
    }

    private NodeCircuitTransition[] Transitions()
    {
        lock (_transitionsGate)
        {
            return [.. _transitions];
        }
    }
}
