using System.Security.Claims;

namespace Coordination.Api.Authentication;

/// <summary>Reads what the API key decided from the authenticated caller.</summary>
internal static class ClaimsPrincipalExtensions
{
    /// <summary>The tenant of the caller's API key. Only ever taken from the key, never from the request.</summary>
    /// <exception cref="InvalidOperationException">The endpoint was reached without the <c>member</c> policy.</exception>
    public static string GetTenant(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyDefaults.TenantClaimType)
        ?? throw new InvalidOperationException("The caller has no tenant claim: the endpoint must require the 'member' or 'admin' policy.");
}
