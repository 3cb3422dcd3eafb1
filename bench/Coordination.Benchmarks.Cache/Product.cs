using System.ComponentModel;
using System.Globalization;

namespace Coordination.Benchmarks.Cache;

/// <summary>
/// The cached value: about 100 bytes of JSON. Marked immutable so that HybridCache may hand out the cached instance
/// on a memory hit (as ours and FusionCache do) instead of deserializing a copy each time.
/// </summary>
[ImmutableObject(true)]
internal sealed record Product(int Id, string Name, string Sku, decimal Price, bool InStock)
{
    public static Product For(int id) => new(id, string.Create(CultureInfo.InvariantCulture, $"Product number {id:D6} (benchmark)"), string.Create(CultureInfo.InvariantCulture, $"SKU-{id:D6}"), 19.99m + id, id % 2 == 0);
}
