using OpenTelemetry.Instrumentation.StackExchangeRedis;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Hands the pool's multiplexers to OpenTelemetry's Redis instrumentation, which only traces the connections it is
/// given. Either side may come first: the tracer provider is built when something first asks for it.
/// </summary>
internal sealed class RedisTracingRegistry
{
    private readonly Lock _gate = new();
    private readonly List<IConnectionMultiplexer> _waiting = [];
    private StackExchangeRedisInstrumentation? _instrumentation;

    public void Attach(StackExchangeRedisInstrumentation instrumentation)
    {
        lock (_gate)
        {
            _instrumentation = instrumentation;
            foreach (var multiplexer in _waiting)
            {
                instrumentation.AddConnection(multiplexer);
            }

            _waiting.Clear();
        }
    }

    public void Add(IConnectionMultiplexer multiplexer)
    {
        lock (_gate)
        {
            if (_instrumentation is null)
            {
                _waiting.Add(multiplexer);
            }
            else
            {
                _instrumentation.AddConnection(multiplexer);
            }
        }
    }
}
