namespace Coordination.Api.Models;

/// <summary>The repair of key/value data from the PostgreSQL mirror after Redis lost it, as the answering node sees it.</summary>
/// <param name="State"><c>idle</c>, <c>pending</c> (reads that miss look in the mirror) or <c>running</c> (this node runs the bulk reload).</param>
/// <param name="LossDetectedAt">When the last loss was detected (Redis's clock), if the node has seen one.</param>
/// <param name="RowsRestored">Values this node put back into Redis since it started.</param>
public sealed record FallbackRepairResponse(string State, DateTimeOffset? LossDetectedAt, long RowsRestored);
