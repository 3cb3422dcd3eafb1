namespace Coordination.Core.Tests.Locks;

public class FencedUpdateTests
{
    [Fact]
    public void CommandText_Update_GuardsOnTheStoredToken()
    {
        var update = new FencedUpdate("accounts").Key("id", 7).Set("balance", 10).Set("note", null);

        Assert.Equal(
            "UPDATE \"accounts\" SET \"balance\" = $1, \"note\" = $2, \"fencing_token\" = $4 WHERE \"id\" = $3 AND (\"fencing_token\" IS NULL OR \"fencing_token\" <= $4)",
            update.CommandText);
    }

    [Fact]
    public void CommandText_RequireNewerTokenAndSchema_StrictComparisonQualifiedName()
    {
        var update = new FencedUpdate("t", "fence", schema: "app") { RequireNewerToken = true }.Key("a", 1).Key("b", 2).Set("v", 3);

        Assert.Equal(
            "UPDATE \"app\".\"t\" SET \"v\" = $1, \"fence\" = $4 WHERE \"a\" = $2 AND \"b\" = $3 AND (\"fence\" IS NULL OR \"fence\" < $4)",
            update.CommandText);
    }

    [Fact]
    public void CommandText_InsertIfMissing_UpsertGuardedOnConflict()
    {
        var update = new FencedUpdate("accounts") { InsertIfMissing = true }.Key("id", 7).Set("balance", 10);

        Assert.Equal(
            "INSERT INTO \"accounts\" AS target (\"balance\", \"id\", \"fencing_token\") VALUES ($1, $2, $3) ON CONFLICT (\"id\") DO UPDATE SET " +
            "\"balance\" = EXCLUDED.\"balance\", \"fencing_token\" = EXCLUDED.\"fencing_token\" WHERE target.\"fencing_token\" IS NULL OR target.\"fencing_token\" <= EXCLUDED.\"fencing_token\"",
            update.CommandText);
    }

    [Fact]
    public void CommandText_QuotesIdentifiers() =>
        Assert.StartsWith("UPDATE \"we\"\"ird\" SET \"x\"\"; DROP\" = $1", new FencedUpdate("we\"ird").Key("id", 1).Set("x\"; DROP", 2).CommandText, StringComparison.Ordinal);

    [Fact]
    public void CommandText_NoKey_Throws() =>
        Assert.Throws<InvalidOperationException>(() => new FencedUpdate("t").Set("v", 1).CommandText);

    [Fact]
    public void Names_Empty_Rejected()
    {
        Assert.Throws<ArgumentException>(() => new FencedUpdate(" "));
        Assert.Throws<ArgumentException>(() => new FencedUpdate("t", ""));
        Assert.Throws<ArgumentException>(() => new FencedUpdate("t").Key("", 1));
        Assert.Throws<ArgumentException>(() => new FencedUpdate("t").Set(" ", 1));
        Assert.ThrowsAny<ArgumentException>(() => new FencedUpdate(null!));
    }

    [Fact]
    public async Task ExecuteAsync_NullConnection_Throws()
    {
        var update = new FencedUpdate("t").Key("id", 1);

        await Assert.ThrowsAsync<ArgumentNullException>(() => update.ExecuteAsync((Npgsql.NpgsqlDataSource)null!, 1, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentNullException>(() => update.ExecuteAsync((Npgsql.NpgsqlConnection)null!, 1, null, TestContext.Current.CancellationToken));
    }
}
