namespace Coordination;

/// <summary>Whether one rule holds on this node at an evaluation, and what to tell about it.</summary>
internal readonly record struct AlertCondition(string Rule, bool Active, string? Details);
