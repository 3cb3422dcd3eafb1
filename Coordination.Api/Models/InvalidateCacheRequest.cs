namespace Coordination.Api.Models;

/// <summary>The body of <c>POST /v1/cache/invalidate</c>, bound by the endpoint and validated by it.</summary>
/// <param name="Tags">Up to 32 tags (each 1..512 UTF-8 bytes, no control characters): every entry carrying one of them is invalidated.</param>
/// <param name="Prefix">A key prefix (1..512 UTF-8 bytes, no control characters): every entry whose key starts with it is invalidated.</param>
/// <remarks>At least one tag or a prefix is required.</remarks>
public sealed record InvalidateCacheRequest(IReadOnlyList<string?>? Tags = null, string? Prefix = null);
