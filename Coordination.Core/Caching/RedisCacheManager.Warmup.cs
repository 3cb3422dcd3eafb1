namespace Coordination;

/// <summary>Warm-on-start: loading an entry from Redis into the memory level without a caller's read (<see cref="HotKeyWarmup{TValue}"/>).</summary>
internal sealed partial class RedisCacheManager
{
    /// <summary>
    /// Reads <paramref name="key"/> from Redis and keeps it in the memory level as a <typeparamref name="T"/>, as a read
    /// that missed memory would, but without counting a request (the first real read is then a memory hit). Nothing is
    /// kept when the entry is absent, expired, invalidated, not a <typeparamref name="T"/>, or invalidated while it was
    /// read.
    /// </summary>
    /// <returns>Whether the memory level holds the key afterwards.</returns>
    internal async ValueTask<bool> PreloadAsync<T>(string key, CancellationToken cancellationToken)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        if (_memory.ContainsKey(key))
        {
            return true;
        }

        var epoch = Epoch(key);
        var stored = await ReadAsync(key, cancellationToken);
        if (stored is not { } entry || !IsUsable(key, entry.Info, _runtime.NowMs(), allowStale: false))
        {
            return false;
        }

        T? value;
        long retainedBytes;
        try
        {
            value = Deserialize<T>(entry.Payload, entry.Codec, out retainedBytes);
        }
        catch (Exception ex) when (ex is CoordinationSerializationException or NotSupportedException or InvalidOperationException)
        {
            return false; // Stored as another type: the first read of it goes to Redis as before.
        }

        Remember(key, value, entry.Info, _defaults.MemoryTimeToLive, retainedBytes, epoch);
        return _memory.ContainsKey(key);
    }
}
