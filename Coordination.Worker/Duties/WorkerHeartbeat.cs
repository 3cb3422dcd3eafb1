namespace Coordination.Worker.Duties;

/// <summary>The value of a worker's heartbeat key.</summary>
/// <param name="At">When it was written (the worker's clock).</param>
/// <param name="Machine">The worker that wrote it.</param>
public sealed record WorkerHeartbeat(DateTimeOffset At, string Machine);
