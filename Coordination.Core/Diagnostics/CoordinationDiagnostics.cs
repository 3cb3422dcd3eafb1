namespace Coordination;

/// <summary>Names under which the library reports telemetry.</summary>
public static class CoordinationDiagnostics
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> that reports the library's metrics.</summary>
    public const string MeterName = "Coordination";

    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> that reports the library's spans.</summary>
    public const string ActivitySourceName = "Coordination";
}
