namespace Coordination;

/// <summary>
/// The repair after Redis lost its key/value data (<see cref="KeyValueRepair"/>): the calls the coordinator makes on a
/// miss and on a delete, and the status. Without a fallback store there is nothing to repair from, and the calls do
/// what they did before.
/// </summary>
internal sealed partial class KeyValueFallback
{
    private readonly KeyValueRepair? _repair;

    /// <summary>Whether a repair is pending as this node knows: a miss then reads the mirror, a delete leaves a tombstone.</summary>
    public bool IsRepairing => _repair?.IsRepairing == true;

    public FallbackRepairStatus RepairStatus => _repair?.Status ?? FallbackRepairStatus.None;

    /// <summary>After a miss in Redis: while a repair is pending, the mirror's value of <paramref name="key"/>, restored into Redis.</summary>
    public ValueTask<(bool Found, byte[]? Value, TimeSpan? TimeToLive)> ReadThroughAsync(string key, CancellationToken cancellationToken) =>
        _repair is { IsRepairing: true } repair ? repair.ReadThroughAsync(key, cancellationToken) : ValueTask.FromResult<(bool, byte[]?, TimeSpan?)>((false, null, null));

    /// <summary>
    /// Deletes <paramref name="key"/> in Redis, leaving a tombstone while a repair is pending (so the repair cannot
    /// restore it), else a plain DEL through <paramref name="writes"/>; answers whether it existed.
    /// </summary>
    public ValueTask<bool> DeleteFromRedisAsync(string key, RedisWriteCombiner writes, CancellationToken cancellationToken) =>
        _repair is { } repair ? repair.DeleteAsync(key, cancellationToken) : writes.DeleteAsync(key, cancellationToken);

    /// <summary>Stops the loss checks and a running reload (releasing its lock): before the lock runtime stops.</summary>
    public Task StopRepairAsync() => _repair?.StopAsync() ?? Task.CompletedTask;

    private void StartRepair() => _repair?.Start(() => _ready && !_active);
}
