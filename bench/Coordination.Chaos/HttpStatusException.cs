namespace Coordination.Chaos;

/// <summary>An HTTP answer the workload did not accept as success; <see cref="Reason"/> is the problem's <c>reason</c>, if any.</summary>
internal sealed class HttpStatusException(int status, string? reason) : Exception($"HTTP {status} {reason}")
{
    public int Status { get; } = status;

    public string? Reason { get; } = reason;
}
