using System.Text.Json;

namespace Coordination;

/// <summary>How reports and duties are written to and read from Redis: the web defaults (camelCase), nulls left out.</summary>
internal static class NodeReportJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}
