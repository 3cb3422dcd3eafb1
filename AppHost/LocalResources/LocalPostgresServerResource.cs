namespace Coordination.AppHost.LocalResources;

/// <summary>
/// A PostgreSQL server of this machine run as an executable resource (through
/// <c>postgres-local.sh</c>), for machines without a container runtime.
/// </summary>
/// <param name="name">The resource name (also the connection string name).</param>
/// <param name="workingDirectory">The resource's folder; the cluster lives in its <c>data</c> subfolder.</param>
/// <param name="password">The password of the superuser <c>postgres</c>.</param>
internal sealed class LocalPostgresServerResource(string name, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, "bash", workingDirectory), IResourceWithConnectionString
{
    /// <summary>The name of the server's TCP endpoint.</summary>
    public const string PrimaryEndpointName = "tcp";

    /// <summary>The superuser the connection strings use.</summary>
    public const string UserName = "postgres";

    private EndpointReference? _primaryEndpoint;

    /// <summary>The password of the superuser <c>postgres</c>.</summary>
    public ParameterResource PasswordParameter { get; } = password ?? throw new ArgumentNullException(nameof(password));

    /// <summary>The server's TCP endpoint.</summary>
    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

    /// <summary>
    /// The server-level Npgsql connection string:
    /// <c>Host=127.0.0.1;Port=..;Username=postgres;Password=..</c>.
    /// </summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create(
            $"Host={LocalHostingSettings.LoopbackAddress};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={UserName};Password={PasswordParameter}");
}
