namespace Coordination;

/// <summary>Marks a service collection that <c>AddCoordination</c> already filled, with the connection it was given.</summary>
internal sealed class CoordinationRegistration(string connectionName)
{
    public string ConnectionName { get; } = connectionName;
}
