using System.Text.Json;
using StackExchange.Redis;

namespace Coordination.Core.Tests.Sessions;

/// <summary>The chain of <see cref="ISessionDataUpgrader"/> steps: its validation, order, and failures.</summary>
public class SessionUpgradesTests
{
    [Fact]
    public void NoUpgraders_CurrentVersionIs1()
    {
        Assert.Equal(1, new SessionUpgrades([]).CurrentVersion);
        Assert.Null(SessionUpgrades.FindChainProblem([]));
    }

    [Fact]
    public void Apply_RegisteredOutOfOrder_RunsTheStepsFromTheSessionsVersionInChainOrder()
    {
        var upgrades = new SessionUpgrades([new Step(3), new Step(1), new Step(2)]);

        var (fromOne, fields) = upgrades.Apply(Data(("trail", "\"\"")), 1, new SessionManagerOptions());
        var (fromThree, _) = upgrades.Apply(Data(("trail", "\"\"")), 3, new SessionManagerOptions());

        Assert.Equal(4, upgrades.CurrentVersion);
        Assert.Equal("1-2;2-3;3-4;", fromOne["trail"].GetString());
        Assert.Equal("3-4;", fromThree["trail"].GetString());
        Assert.Equal(["d:trail", "\"1-2;2-3;3-4;\""], fields.Select(f => (string)f!));
    }

    [Theory]
    [InlineData(new[] { 1, 3 }, "none starts from schema version 2 (the registered ones start from 1, 3)")]
    [InlineData(new[] { 2 }, "none starts from schema version 1")]
    [InlineData(new[] { 1, 2, 2 }, "Two session data upgraders start from schema version 2")]
    [InlineData(new[] { 0, 1 }, "starts from schema version 0; schema versions start at 1")]
    public void FindChainProblem_AGapADuplicateOrAVersionBelow1_IsNamed_AndFailsTheRuntimeAndTheStart(int[] fromVersions, string problem)
    {
        ISessionDataUpgrader[] steps = [.. fromVersions.Select(v => new Step(v))];

        Assert.Contains(problem, SessionUpgrades.FindChainProblem(steps), StringComparison.Ordinal);
        Assert.Contains(problem, Assert.Throws<InvalidOperationException>(() => new SessionUpgrades(steps)).Message, StringComparison.Ordinal);
        var result = new SessionUpgradeChainRules(steps).Validate(null, new CoordinationOptions());
        Assert.True(result.Failed);
        Assert.Contains(problem, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void ChainRules_AValidChainOrNone_Succeed()
    {
        Assert.True(new SessionUpgradeChainRules([]).Validate(null, new CoordinationOptions()).Succeeded);
        Assert.True(new SessionUpgradeChainRules([new Step(2), new Step(1)]).Validate(null, new CoordinationOptions()).Succeeded);
    }

    [Fact]
    public void Apply_AStepThatThrows_FailsWithSessionUpgradeFailed_NamingTheStep_WithTheCauseInside()
    {
        var upgrades = new SessionUpgrades([new Step(1), new Throwing(2)]);

        var error = Assert.Throws<SessionUpgradeFailedException>(() => upgrades.Apply(Data(("trail", "\"\"")), 1, new SessionManagerOptions()));

        Assert.Equal((2, 3), (error.FromSchemaVersion, error.ToSchemaVersion));
        Assert.Contains(typeof(Throwing).FullName!, error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing stored was changed", error.Message, StringComparison.Ordinal);
        Assert.IsType<FormatException>(error.InnerException);
    }

    [Fact]
    public void Apply_AStepThatReturnsNull_FailsWithSessionUpgradeFailed()
    {
        var error = Assert.Throws<SessionUpgradeFailedException>(() => new SessionUpgrades([new ReturnsNull()]).Apply(Data(), 1, new SessionManagerOptions()));

        Assert.Equal((1, 2), (error.FromSchemaVersion, error.ToSchemaVersion));
        Assert.Contains("returned null", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_AResultOverMaxDataBytesOrWithABadName_FailsWithSessionUpgradeFailed_NamingTheBound()
    {
        var upgrades = new SessionUpgrades([new Step(1)]);

        var tooLarge = Assert.Throws<SessionUpgradeFailedException>(() => upgrades.Apply(Data(("trail", "\"\"")), 1, new SessionManagerOptions { MaxDataBytes = 8 }));
        var badName = Assert.Throws<SessionUpgradeFailedException>(() => new SessionUpgrades([new Renames(1, "")]).Apply(Data(("a", "1")), 1, new SessionManagerOptions()));

        Assert.Contains("MaxDataBytes", tooLarge.Message, StringComparison.Ordinal);
        Assert.Equal((1, 2), (tooLarge.FromSchemaVersion, tooLarge.ToSchemaVersion));
        Assert.IsType<ArgumentException>(tooLarge.InnerException);
        Assert.IsType<ArgumentException>(badName.InnerException);
    }

    [Fact]
    public void SessionData_ReadsTheSchemaVersion_1WhenAbsent()
    {
        RedisResult[] withS = [.. new RedisValue[] { "u", "user", "v", "4", "s", "3", "d:a", "1" }.Select(v => RedisResult.Create(v))];
        RedisResult[] withoutS = [.. new RedisValue[] { "u", "user", "v", "4", "d:a", "1" }.Select(v => RedisResult.Create(v))];

        SessionData.Read("id", withS, out var three);
        var (session, _, _) = SessionData.ReadWithTimes("id", withoutS, out var one);

        Assert.Equal((3, 1), (three, one));
        Assert.Equal(["a"], session.Data.Keys); // s is not data
    }

    private static Dictionary<string, JsonElement> Data(params (string Name, string Json)[] fields) =>
        fields.ToDictionary(f => f.Name, f => JsonDocument.Parse(f.Json).RootElement.Clone(), StringComparer.Ordinal);

    /// <summary>Appends "from-to;" to the field "trail", so the order the steps ran in shows.</summary>
    private sealed class Step(int fromVersion) : ISessionDataUpgrader
    {
        public int FromVersion => fromVersion;

        public IReadOnlyDictionary<string, JsonElement> Upgrade(IReadOnlyDictionary<string, JsonElement> data) =>
            new Dictionary<string, JsonElement>(data) { ["trail"] = JsonSerializer.SerializeToElement(data["trail"].GetString() + $"{fromVersion}-{fromVersion + 1};") };
    }

    private sealed class Throwing(int fromVersion) : ISessionDataUpgrader
    {
        public int FromVersion => fromVersion;

        public IReadOnlyDictionary<string, JsonElement> Upgrade(IReadOnlyDictionary<string, JsonElement> data) => throw new FormatException("cannot read this");
    }

    private sealed class ReturnsNull : ISessionDataUpgrader
    {
        public int FromVersion => 1;

        public IReadOnlyDictionary<string, JsonElement> Upgrade(IReadOnlyDictionary<string, JsonElement> data) => null!;
    }

    private sealed class Renames(int fromVersion, string newName) : ISessionDataUpgrader
    {
        public int FromVersion => fromVersion;

        public IReadOnlyDictionary<string, JsonElement> Upgrade(IReadOnlyDictionary<string, JsonElement> data) =>
            data.ToDictionary(e => newName, e => e.Value);
    }
}
