namespace Coordination.Api.OpenApi;

/// <summary>Whether the API serves its OpenAPI document <c>/openapi/v1.json</c> (section <c>Coordination:OpenApi</c>).</summary>
public sealed class OpenApiDocumentOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:OpenApi";

    /// <summary>
    /// Whether <c>/openapi/v1.json</c> is mapped. Unset: in Development only; outside Development it is a map of every
    /// endpoint for anyone who asks, so it must be asked for.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: mapped in Development, not in other environments.</value>
    public bool? Enabled { get; set; }

    /// <summary>Whether the document is mapped in <paramref name="environment"/>.</summary>
    public bool IsEnabledIn(IHostEnvironment environment) => Enabled ?? environment.IsDevelopment();
}
