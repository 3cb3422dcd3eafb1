using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>Health check settings (section <c>Coordination:Health</c>).</summary>
public sealed class HealthOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Health";

    /// <summary>A PING round trip slower than this reports the service as Degraded.</summary>
    /// <value>The default value is 100 milliseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan DegradedLatency { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the health probe's PING may take before Redis is reported Unhealthy.</summary>
    /// <value>The default value is 2 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
