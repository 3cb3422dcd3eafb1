namespace Coordination.Chaos;

/// <summary>What a fault acts on: the servers, the library nodes and the API replicas of the run.</summary>
internal sealed class ChaosContext(ChaosSettings settings, RedisControl redis, PostgresControl postgres, string postgresConnectionString, IReadOnlyList<LibraryNode> nodes, ApiPool api, Func<string, ChaosApiHost> startReplica)
{
    private int _replicas = 2;

    public ChaosSettings Settings { get; } = settings;

    public RedisControl Redis { get; } = redis;

    public PostgresControl Postgres { get; } = postgres;

    public string PostgresConnectionString { get; } = postgresConnectionString;

    public IReadOnlyList<LibraryNode> Nodes { get; } = nodes;

    public ApiPool Api { get; } = api;

    /// <summary>The replica started last (by the API scenario), whose first answer ends that scenario's recovery.</summary>
    public string? NewReplica { get; private set; }

    public ChaosApiHost StartReplica()
    {
        var name = $"api-{++_replicas}";
        NewReplica = name;
        return startReplica(name);
    }
}
