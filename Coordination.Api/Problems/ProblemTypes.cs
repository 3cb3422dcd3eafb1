namespace Coordination.Api.Problems;

/// <summary>The stable <c>type</c> URIs of the API's problem details. Clients may switch on them: never change one.</summary>
public static class ProblemTypes
{
    private const string Base = "https://coordination.dev/errors/";

    /// <summary>400: a field of the request is invalid; the <c>errors</c> map names it.</summary>
    public const string Validation = Base + "validation";

    /// <summary>404: the key, lock, session or policy does not exist.</summary>
    public const string NotFound = Base + "not-found";

    /// <summary>401: no API key, or an unknown one.</summary>
    public const string Unauthorized = Base + "unauthorized";

    /// <summary>403: the API key's role is too low for the call.</summary>
    public const string Forbidden = Base + "forbidden";

    /// <summary>503: Redis is unavailable and the call has no fallback; retry after <c>Retry-After</c>.</summary>
    public const string Unavailable = Base + "unavailable";
}
