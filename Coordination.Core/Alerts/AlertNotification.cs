using System.Text.Json.Serialization;

namespace Coordination;

/// <summary>
/// One notification, as posted to every webhook (JSON, camelCase): exactly one node of the system sends each one.
/// </summary>
/// <param name="Rule">The rule (<see cref="AlertRules"/>).</param>
/// <param name="State"><c>firing</c> or <c>resolved</c>.</param>
/// <param name="Node">The node that sent it: for <c>firing</c> one that holds the condition, for <c>resolved</c> the one that saw it clear last.</param>
/// <param name="Since">When the incident started (the store's clock).</param>
/// <param name="Details">What the last node to report the condition said about it.</param>
/// <param name="Incident">The incident's id: the same on its <c>firing</c>, repeated <c>firing</c> and <c>resolved</c> notifications.</param>
/// <param name="Repeat">Whether this <c>firing</c> repeats an earlier one of the same incident.</param>
internal sealed record AlertNotification(
    [property: JsonPropertyName("rule")] string Rule,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("since")] DateTimeOffset Since,
    [property: JsonPropertyName("details")] string? Details,
    [property: JsonPropertyName("incident")] string Incident,
    [property: JsonPropertyName("repeat")] bool Repeat)
{
    public const string Firing = "firing";
    public const string Resolved = "resolved";
}
