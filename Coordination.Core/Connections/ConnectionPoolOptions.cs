using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>Sizing and liveness settings of the pool of Redis connections (section <c>Coordination:Pool</c>).</summary>
public sealed class ConnectionPoolOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Pool";

    /// <summary>Connections kept open at all times.</summary>
    /// <value>The default value is 1.</value>
    [Range(1, 64)]
    public int MinConnections { get; set; } = 1;

    /// <summary>Connections the pool may grow to under load. Must not be below <see cref="MinConnections"/>.</summary>
    /// <value>The default value is 4.</value>
    [Range(1, 64)]
    public int MaxConnections { get; set; } = 4;

    /// <summary>Operations in flight per connection (peak over a scaling interval) above which the pool adds a connection.</summary>
    /// <value>The default value is 256.</value>
    [Range(1, 1_000_000)]
    public int GrowThreshold { get; set; } = 256;

    /// <summary>How long the pool must stay lightly used before it closes a connection above <see cref="MinConnections"/>.</summary>
    /// <value>The default value is 60 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ShrinkAfterIdle { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the pool samples load and decides to grow or shrink.</summary>
    /// <value>The default value is 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan ScaleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often each connection is probed with PING.</summary>
    /// <value>The default value is 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a connection that claims to be connected may go without answering a heartbeat before it is
    /// replaced (a half-open TCP connection otherwise stalls callers for minutes).
    /// </summary>
    /// <value>The default value is 3 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The shortest interval between two forced reconnects of the same connection.</summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan MinForcedReconnectInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The first delay between reconnect attempts; later delays grow with decorrelated jitter.</summary>
    /// <value>The default value is 100 milliseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between reconnect attempts; it bounds how long a restarted Redis waits to be noticed.</summary>
    /// <value>The default value is 2 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long establishing one connection may take.</summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
