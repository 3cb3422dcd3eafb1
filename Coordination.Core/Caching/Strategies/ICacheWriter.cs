namespace Coordination;

/// <summary>
/// Writes values to the system of record (a database, a service) for write-through and write-behind. Register it for a
/// key prefix with <c>WithWriteThrough</c> or <c>WithWriteBehind</c>.
/// </summary>
/// <typeparam name="T">The type of the values.</typeparam>
/// <remarks>
/// <para>Write-through calls it with one write per <see cref="IBackedCache.SetAsync{T}"/>; write-behind calls it with
/// batches in the order the writes were acknowledged (a key may appear more than once in a batch: the last write of a
/// key wins). Batches of one prefix are never written concurrently.</para>
/// <para>Write-behind retries a batch that throws, so the writer must be idempotent (an upsert). The list is only valid
/// during the call.</para>
/// </remarks>
public interface ICacheWriter<T>
{
    /// <summary>Writes <paramref name="writes"/> to the system of record; returns once they are durable there.</summary>
    /// <param name="writes">The writes, oldest first (at least one).</param>
    /// <param name="cancellationToken">Canceled when the caller gives up (write-through) or when shutdown stops waiting (write-behind).</param>
    ValueTask WriteAsync(IReadOnlyList<KeyValuePair<string, T>> writes, CancellationToken cancellationToken);
}
