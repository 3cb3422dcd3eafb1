namespace Coordination.Core.Tests.Locks;

/// <summary>How the async flow's record of locks behaves (re-entrancy and the owner of a flow).</summary>
public class LockFlowTests
{
    private static readonly object Scope = new();

    [Fact]
    public async Task Enter_FromSynchronousCall_VisibleToCallerAfterwards()
    {
        await Task.Run(() =>
        {
            Assert.Null(LockFlow.LiveOwner());

            var entry = LockFlow.Enter(Scope, "k", () => "owner-1");

            Assert.Equal("owner-1", entry.Owner);
            Assert.Equal("owner-1", LockFlow.LiveOwner());
            Assert.Same(Scope, entry.Scope);
            // Pending, not held yet: no live hold of "k" for re-entry.
            Assert.Same(entry, Assert.Single(LockFlow.Entries.ToArray()));
            Assert.False(entry.IsLiveHoldOf(Scope, "k"));
        }, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Enter_InsideAsyncMethod_NotVisibleToCaller()
    {
        await Task.Run(async () =>
        {
            await EnterAsync();

            // This is why the public Acquire* methods are not async: the record would vanish with the method.
            Assert.Null(LockFlow.LiveOwner());
        }, TestContext.Current.CancellationToken);

        static async Task EnterAsync()
        {
            await Task.Yield();
            LockFlow.Enter(Scope, "k", () => "inner");
        }
    }

    [Fact]
    public async Task Enter_WhileFlowHoldsSomething_SameOwner_AfterEverythingEnded_NewOwner()
    {
        await Task.Run(() =>
        {
            var first = LockFlow.Enter(Scope, "a", () => "o1");
            var second = LockFlow.Enter(Scope, "b", () => "o2");
            Assert.Equal("o1", second.Owner);

            first.Fail();
            second.Fail();
            Assert.Null(LockFlow.LiveOwner());

            var third = LockFlow.Enter(Scope, "c", () => "o3");
            Assert.Equal("o3", third.Owner);
        }, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task ChildFlows_InheritTheRecordButNotLaterEntries()
    {
        await Task.Run(async () =>
        {
            LockFlow.Enter(Scope, "parent", () => "p");

            var childOwner = await Task.Run(() =>
            {
                var child = LockFlow.Enter(Scope, "child", () => "other");
                return child.Owner;
            });

            Assert.Equal("p", childOwner);
            Assert.Equal("p", LockFlow.LiveOwner());
        }, TestContext.Current.CancellationToken);
    }
}
