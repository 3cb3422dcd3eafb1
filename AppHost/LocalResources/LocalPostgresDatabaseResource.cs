namespace Coordination.AppHost.LocalResources;

/// <summary>A database of a <see cref="LocalPostgresServerResource"/>, created when the server is ready.</summary>
/// <param name="name">The resource name (also the connection string name).</param>
/// <param name="databaseName">The database's name in PostgreSQL.</param>
/// <param name="parent">The server holding the database.</param>
internal sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString
{
    /// <summary>The server holding the database.</summary>
    public LocalPostgresServerResource Parent { get; } = parent ?? throw new ArgumentNullException(nameof(parent));

    /// <summary>The database's name in PostgreSQL.</summary>
    public string DatabaseName { get; } = string.IsNullOrEmpty(databaseName)
        ? throw new ArgumentException("A database name is required.", nameof(databaseName))
        : databaseName;

    /// <summary>
    /// The Npgsql connection string:
    /// <c>Host=127.0.0.1;Port=..;Username=postgres;Password=..;Database=..</c>.
    /// </summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent.ConnectionStringExpression};Database={DatabaseName}");
}
