using Microsoft.AspNetCore.Http.Features;

namespace Coordination.Api.Validation;

/// <summary>
/// Reads a route value that may stand for text with slashes in it. Kestrel decodes the request path except
/// <c>%2F</c>, which it leaves encoded so that it does not split a segment; a name with a slash is therefore sent
/// percent-encoded (<c>/v1/locks/orders%2F42</c>) and arrives as <c>orders%2F42</c>. Decoding that once more would
/// confuse it with a literal <c>%2F</c> sent as <c>%252F</c>, so the segment is decoded exactly once from the raw
/// request target instead.
/// </summary>
internal static class RouteSegment
{
    /// <summary>
    /// The fully decoded value of the path segment <paramref name="fromEnd"/> segments before the last one
    /// (0: the last), given the route value routing bound from it.
    /// </summary>
    public static string? Decode(HttpContext context, string? routeValue, int fromEnd)
    {
        // Without '%' the route value holds neither a kept %2F nor a decoded %25: it is exact.
        if (routeValue is null || !routeValue.Contains('%', StringComparison.Ordinal))
        {
            return routeValue;
        }

        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target))
        {
            return routeValue;
        }

        var query = target.IndexOf('?', StringComparison.Ordinal);
        var segments = (query < 0 ? target : target[..query]).Split('/');
        var index = segments.Length - 1 - fromEnd;
        if (index < 0)
        {
            return routeValue;
        }

        // The raw segment is the one routing read only if decoding it the way Kestrel does gives the route value
        // (a path Kestrel normalized, such as one with "..", may not line up): then decode it all.
        var raw = segments[index];
        return string.Equals(DecodeKeepingSlashes(raw), routeValue, StringComparison.Ordinal) ? Uri.UnescapeDataString(raw) : routeValue;
    }

    private static string DecodeKeepingSlashes(string raw)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i + 2 < raw.Length; i++)
        {
            if (raw[i] == '%' && raw[i + 1] == '2' && raw[i + 2] is 'F' or 'f')
            {
                parts.Add(Uri.UnescapeDataString(raw[start..i]));
                parts.Add(raw.Substring(i, 3));
                start = i + 3;
                i += 2;
            }
        }

        parts.Add(Uri.UnescapeDataString(raw[start..]));
        return string.Concat(parts);
    }
}
