namespace Coordination.AppHost.LocalResources;

/// <summary>
/// A <c>redis-server</c> of this machine run as an executable resource, for machines without a
/// container runtime. Its connection string is <c>127.0.0.1:port,password=..</c>, as StackExchange.Redis reads it.
/// </summary>
/// <param name="name">The resource name (also the connection string name).</param>
/// <param name="command">The full path of <c>redis-server</c>.</param>
/// <param name="workingDirectory">The server's working and data folder.</param>
/// <param name="password">The secret parameter holding the server's password (<c>requirepass</c>).</param>
internal sealed class LocalRedisResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    /// <summary>The name of the server's TCP endpoint.</summary>
    public const string PrimaryEndpointName = "tcp";

    private EndpointReference? _primaryEndpoint;

    /// <summary>The server's TCP endpoint.</summary>
    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

    /// <summary>The server's password (<c>requirepass</c>); it has no special characters (see AppHost.cs).</summary>
    public ParameterResource PasswordParameter { get; } = password ?? throw new ArgumentNullException(nameof(password));

    /// <summary>The connection string: <c>127.0.0.1:port,password=..</c>.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create(
            $"{LocalHostingSettings.LoopbackAddress}:{PrimaryEndpoint.Property(EndpointProperty.Port)},password={PasswordParameter}");
}
