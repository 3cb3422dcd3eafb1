namespace Coordination.Api.Authentication;

/// <summary>Names shared by the API-key scheme, its claims and the authorization policies.</summary>
public static class ApiKeyDefaults
{
    /// <summary>The authentication scheme.</summary>
    public const string AuthenticationScheme = "ApiKey";

    /// <summary>The request header that carries the key.</summary>
    public const string HeaderName = "X-Api-Key";

    /// <summary>The claim that carries the tenant the key belongs to.</summary>
    public const string TenantClaimType = "coordination:tenant";

    /// <summary>The role of an ordinary caller.</summary>
    public const string MemberRole = "member";

    /// <summary>The role that may also change tenant-wide settings.</summary>
    public const string AdminRole = "admin";

    /// <summary>The policy met by <see cref="MemberRole"/> and <see cref="AdminRole"/> keys.</summary>
    public const string MemberPolicy = "member";

    /// <summary>The policy met by <see cref="AdminRole"/> keys only.</summary>
    public const string AdminPolicy = "admin";
}
