namespace Coordination.Api.Limits;

/// <summary>Endpoint metadata: the endpoint's requests do not take a permit of the tenant's bulkhead (<see cref="TenantConcurrencyOptions"/>).</summary>
internal sealed class OutsideTenantBulkhead
{
    public static OutsideTenantBulkhead Instance { get; } = new();
}

/// <summary>Endpoint metadata: the endpoint's requests are not counted against the tenant's request rate (<see cref="ApiRateLimitOptions"/>).</summary>
internal sealed class OutsideTenantRequestRate
{
    public static OutsideTenantRequestRate Instance { get; } = new();
}

/// <summary>Takes an endpoint out of one of the tenant limits.</summary>
internal static class TenantLimitEndpointExtensions
{
    /// <summary>The endpoint holds no bulkhead permit (a request that waits for another request of the tenant to finish), but is still counted by the request rate.</summary>
    public static TBuilder OutsideTenantBulkhead<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(Limits.OutsideTenantBulkhead.Instance);

    /// <summary>The endpoint is not counted by the tenant's request rate (health and status).</summary>
    public static TBuilder OutsideTenantRequestRate<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(Limits.OutsideTenantRequestRate.Instance);
}
