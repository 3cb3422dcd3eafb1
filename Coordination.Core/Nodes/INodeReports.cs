namespace Coordination;

/// <summary>
/// Reads the reports of every node (API replicas, the Worker, any service that adds <c>WithNodeReports</c>), with this
/// node's own state collected live. Registered by <c>WithNodeReports</c>. Thread-safe.
/// </summary>
public interface INodeReports
{
    /// <summary>This node's name: <c>{service}@{host}:{process id}</c>.</summary>
    string NodeName { get; }

    /// <summary>
    /// Reads every node's last report from Redis and this node's state live. When Redis cannot be read, the answer
    /// holds this node live and the other nodes as last read, with <see cref="NodeReportsSnapshot.Complete"/> false.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait.</param>
    Task<NodeReportsSnapshot> ReadAsync(CancellationToken cancellationToken = default);
}
