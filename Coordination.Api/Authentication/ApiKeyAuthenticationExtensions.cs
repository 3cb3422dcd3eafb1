using Coordination.Api.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers API-key authentication and the role policies.</summary>
internal static class ApiKeyAuthenticationExtensions
{
    /// <summary>
    /// Adds the <c>ApiKey</c> scheme (header <c>X-Api-Key</c>, keys from <c>Coordination:ApiKeys</c>, validated at
    /// start), the throttle of failed attempts per address (<c>Coordination:AuthenticationThrottle</c>) and the policies <c>member</c> (member or admin) and <c>admin</c>.
    /// </summary>
    public static IHostApplicationBuilder AddApiKeyAuthentication(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ApiKeysOptions>()
            .BindConfiguration(ApiKeysOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApiKeysOptions>, ApiKeysOptionsValidator>());
        services.TryAddSingleton<ApiKeyStore>();
        services.AddOptions<AuthenticationThrottleOptions>()
            .BindConfiguration(AuthenticationThrottleOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<FailedAuthenticationTracker>();

        services.AddAuthentication(ApiKeyDefaults.AuthenticationScheme)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyDefaults.AuthenticationScheme, configureOptions: null);

        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyDefaults.MemberPolicy, policy => policy
                .RequireAuthenticatedUser()
                .RequireClaim(ApiKeyDefaults.TenantClaimType)
                .RequireRole(ApiKeyDefaults.MemberRole, ApiKeyDefaults.AdminRole))
            .AddPolicy(ApiKeyDefaults.AdminPolicy, policy => policy
                .RequireAuthenticatedUser()
                .RequireClaim(ApiKeyDefaults.TenantClaimType)
                .RequireRole(ApiKeyDefaults.AdminRole));

        return builder;
    }
}
