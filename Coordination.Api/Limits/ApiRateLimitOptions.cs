namespace Coordination.Api.Limits;

/// <summary>
/// The request rate of each tenant on the API (section <c>Coordination:Api:RateLimit</c>), limited with the platform's
/// own rate limiting in Redis, so the limit holds across every replica: each request of a tenant takes one permit of
/// <see cref="Policy"/> (the tenant's override of it, if an administrator set one) under the key
/// <see cref="RequestKey"/>. Beyond it requests are answered 429 <c>rate-limited</c> with <c>Retry-After</c> and
/// <c>RateLimit-Limit</c>, <c>RateLimit-Remaining</c>, <c>RateLimit-Reset</c>; allowed answers carry the three
/// <c>RateLimit-*</c> headers too. Health and status endpoints and requests without a valid key are not counted.
/// While Redis is unavailable the limit is not enforced (fail open, logged): the per-tenant bulkhead
/// (<see cref="TenantConcurrencyOptions"/>) still bounds each tenant.
/// </summary>
public sealed class ApiRateLimitOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Api:RateLimit";

    /// <summary>The key each tenant's requests are counted under in the tenant's rate limits.</summary>
    public const string RequestKey = "api-requests";

    /// <summary>Gets or sets whether the request rate is limited at all.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets the policy every tenant's requests are limited by. It must be defined in configuration
    /// (<c>Coordination:RateLimiting:Policies:{name}</c>), so it exists from the first request; administrators change it
    /// with <c>PUT /v1/ratelimit/policies/{policy}</c> and per tenant with <c>PUT /v1/ratelimit/policies/{policy}/tenants/{tenant}</c>.
    /// </summary>
    /// <value>The default value is <c>api-requests</c>.</value>
    public string Policy { get; set; } = "api-requests";
}
