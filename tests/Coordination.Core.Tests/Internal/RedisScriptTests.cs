using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Coordination.Core.Tests.Internal;

public class RedisScriptTests
{
    private static readonly Assembly Library = typeof(RedisScript).Assembly;

    public static TheoryData<string> ScriptFields => [.. ScriptFieldNames()];

    private static string[] ScriptFieldNames() => [.. typeof(RedisScript)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(RedisScript))
        .Select(f => f.Name)];

    private static RedisScript Script(string field) => (RedisScript)typeof(RedisScript).GetField(field)!.GetValue(null)!;

    [Theory]
    [MemberData(nameof(ScriptFields))]
    public void Script_Loads_NonEmptyFromItsResource(string field)
    {
        var script = Script(field);

        Assert.False(string.IsNullOrWhiteSpace(script.Source));
        Assert.Contains("redis.call(", script.Source, StringComparison.Ordinal);
        Assert.NotNull(Library.GetManifestResourceInfo($"Coordination.Scripts.{script.Name}.lua"));
    }

    [Theory]
    [MemberData(nameof(ScriptFields))]
    public void Script_StartsWithCommentBlockDescribingKeysArgvAndReturns(string field)
    {
        var script = Script(field);
        var lines = script.Source.ReplaceLineEndings("\n").Split('\n');
        var header = string.Join('\n', lines.TakeWhile(l => l.StartsWith("--", StringComparison.Ordinal)));

        Assert.StartsWith("--", script.Source, StringComparison.Ordinal);
        Assert.Contains("KEYS[1]", header, StringComparison.Ordinal);
        Assert.Contains("Returns", header, StringComparison.Ordinal);

        // Every argument the body reads by number is described in the header, one by one or as a range ("ARGV[7..]").
        foreach (var index in NumberedArguments(script.Source))
        {
            Assert.True(
                header.Contains($"ARGV[{index}]", StringComparison.Ordinal) || DescribedByRange(header, index),
                $"{script.Name}: ARGV[{index}] is read but not described in the header.");
        }
    }

    [Fact]
    public void Scripts_EveryEmbeddedLuaResourceHasAScript()
    {
        var resources = Library.GetManifestResourceNames()
            .Where(r => r.StartsWith("Coordination.Scripts.", StringComparison.Ordinal) && r.EndsWith(".lua", StringComparison.Ordinal))
            .Select(r => r["Coordination.Scripts.".Length..^".lua".Length])
            .Order(StringComparer.Ordinal)
            .ToArray();
        var scripts = ScriptFieldNames().Select(f => Script(f).Name).Concat(RedisScript.Preludes).Order(StringComparer.Ordinal).ToArray();

        Assert.NotEmpty(resources);
        Assert.Equal(resources, scripts);
    }

    [Fact]
    public void Scripts_NamesMatchTheirFields()
    {
        Assert.Equal("lock_acquire", RedisScript.LockAcquire.Name);
        Assert.Equal("lock_release", RedisScript.LockRelease.Name);
        Assert.Equal("get_with_ttl", RedisScript.GetWithTtl.Name);
    }

    private static IEnumerable<int> NumberedArguments(string source) =>
        Regex.Matches(source, @"ARGV\[(\d+)\]").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct();

    private static bool DescribedByRange(string header, int index) =>
        Regex.Matches(header, @"ARGV\[(\d+)\.\.\]").Any(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) <= index);
}
