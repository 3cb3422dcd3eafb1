using System.Security.Claims;
using System.Text.Encodings.Web;
using Coordination.Api.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Coordination.Api.Authentication;

/// <summary>
/// Authenticates a request by its <c>X-Api-Key</c> header. The key decides the tenant and the role; a missing or
/// unknown key is answered 401 and a role too low 403, both as problem details.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    FailedAuthenticationTracker failures)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiKeyDefaults.HeaderName, out var values) || values.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (values.Count > 1 || string.IsNullOrEmpty(values[0]))
        {
            failures.RecordFailure(Context.Connection.RemoteIpAddress);
            return Task.FromResult(AuthenticateResult.Fail($"Send exactly one non-empty {ApiKeyDefaults.HeaderName} header."));
        }

        if (keys.Find(values[0]!) is not { } match)
        {
            failures.RecordFailure(Context.Connection.RemoteIpAddress);
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, match.Tenant),
                new Claim(ApiKeyDefaults.TenantClaimType, match.Tenant),
                new Claim(ClaimTypes.Role, match.Role),
            ],
            Scheme.Name);
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(ticket));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var detail = result.Failure?.Message ?? $"The {ApiKeyDefaults.HeaderName} header is missing.";
        Response.Headers.WWWAuthenticate = $"{ApiKeyDefaults.AuthenticationScheme} header=\"{ApiKeyDefaults.HeaderName}\"";
        await ProblemResponses.WriteAsync(Context, StatusCodes.Status401Unauthorized, ProblemTypes.Unauthorized, "Unauthorized", detail);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        await ProblemResponses.WriteAsync(Context, StatusCodes.Status403Forbidden, ProblemTypes.Forbidden, "Forbidden", "The API key's role does not allow this call.");
    }
}
