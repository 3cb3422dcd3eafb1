namespace Coordination;

/// <summary>One webhook alerts are posted to (<c>Coordination:Alerts:Webhooks:{i}</c>).</summary>
public sealed class AlertWebhookOptions
{
    /// <summary>
    /// Gets or sets the absolute <c>http</c> or <c>https</c> URL each notification is posted to as JSON
    /// (<c>rule</c>, <c>state</c>, <c>node</c>, <c>since</c>, <c>details</c>, <c>incident</c>).
    /// </summary>
    /// <value>The default value is <see langword="null"/>, which fails validation at start.</value>
    public string? Url { get; set; }
}
