namespace Coordination;

/// <summary>When a key/value write is acknowledged, relative to its copy in the PostgreSQL fallback store.</summary>
public enum KeyValueDurability
{
    /// <summary>
    /// Acknowledged once Redis has it; copied to PostgreSQL in the background, normally within milliseconds
    /// (docs/reliability.md states the bound). A write Redis loses before its copy lands can be lost.
    /// </summary>
    Asynchronous,

    /// <summary>
    /// Acknowledged only after PostgreSQL committed its copy too, so it survives Redis losing its data. Slower (a
    /// PostgreSQL commit per batch of writes) and unavailable without a fallback store.
    /// </summary>
    Synchronous,
}
