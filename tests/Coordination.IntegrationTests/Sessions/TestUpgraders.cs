using System.Text.Json;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>Data schema steps the upgrade tests register: a real chain 1→2→3, and steps that fail.</summary>
internal static class TestUpgraders
{
    /// <summary>The chain 1→2→3, registered in reverse to show the order comes from the versions.</summary>
    public static readonly Type[] Chain = [typeof(AddCountry), typeof(RenameNameToFullName)];

    /// <summary>1→2: the field "name" becomes "fullName".</summary>
    public sealed class RenameNameToFullName : ISessionDataUpgrader
    {
        public int FromVersion => 1;

        public IReadOnlyDictionary<string, JsonElement> Upgrade(IReadOnlyDictionary<string, JsonElement> data)
        {
            var next = new Dictionary<string, JsonElement>(data, StringComparer.Ordinal);
            if (next.Remove("name", out var name))
            {
                next["fullName"] = name;
            }

            return next;
        }
    }

    /// <summary>2→3: every session has a "country", "unknown" unless it had one.</summary>
    public sealed class AddCountry : ISessionDataUpgrader
    {
        public int FromVersion => 2;

        public IReadOnlyDictionary<string, JsonElement> Upgrade(IReadOnlyDictionary<string, JsonElement> data)
        {
            var next = new Dictionary<string, JsonElement>(data, StringComparer.Ordinal);
            next.TryAdd("country", JsonSerializer.SerializeToElement("unknown"));
            return next;
        }
    }

    /// <summary>1→2 that throws on data holding a field "poison".</summary>
    public sealed class ThrowsOnPoison : ISessionDataUpgrader
    {
        public int FromVersion => 1;

        public IReadOnlyDictionary<string, JsonElement> Upgrade(IReadOnlyDictionary<string, JsonElement> data) =>
            data.ContainsKey("poison") ? throw new InvalidOperationException("poisoned data") : data;
    }

    /// <summary>1→2 that adds ten fields (over a small MaxFields).</summary>
    public sealed class AddsTenFields : ISessionDataUpgrader
    {
        public int FromVersion => 1;

        public IReadOnlyDictionary<string, JsonElement> Upgrade(IReadOnlyDictionary<string, JsonElement> data)
        {
            var next = new Dictionary<string, JsonElement>(data, StringComparer.Ordinal);
            for (var i = 0; i < 10; i++)
            {
                next[$"extra{i}"] = JsonSerializer.SerializeToElement(i);
            }

            return next;
        }
    }
}
