using Microsoft.AspNetCore.Authentication;

namespace Coordination.Api.Authentication;

/// <summary>Options of the <c>ApiKey</c> authentication scheme. The keys themselves are <see cref="ApiKeysOptions"/>.</summary>
public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
}
