using Coordination.Api.Problems;
using Microsoft.AspNetCore.Http.Metadata;

namespace Coordination.Api.Validation;

/// <summary>
/// Endpoint metadata: the largest request body the endpoint reads, in bytes, and the field a larger body is blamed
/// on. As <see cref="IRequestSizeLimitMetadata"/> it is applied by routing to the server's own limit, so the server
/// stops reading past it (declared or streamed); <see cref="RequestBodyProblems"/> answers the refusal.
/// </summary>
internal sealed class RequestBodyLimit(long maxBytes, string field) : IRequestSizeLimitMetadata
{
    public long? MaxRequestBodySize { get; } = maxBytes;

    /// <summary>The field named in the 400 for a body over the limit (<c>value</c> where the value is the bulk of it).</summary>
    public string Field { get; } = field;
}
