using Polly.CircuitBreaker;
using Polly.Timeout;
using StackExchange.Redis;

namespace Coordination.Core.Tests.Internal;

public class ExceptionFactoryTests
{
    private static RedisServerException Server(RedisErrorKind kind, string message) => new(kind, CommandFlags.None, message);

    private static RedisConnectionException Connection(ConnectionFailureType failure, string message) =>
        new(failure, CommandFlags.None, message, null, CommandStatus.Unknown);

    public static TheoryData<Exception> TransientFailures => new()
    {
        Connection(ConnectionFailureType.SocketFailure, "socket closed"),
        Connection(ConnectionFailureType.UnableToConnect, "no connection is active"),
        new RedisTimeoutException(CommandFlags.None, "timeout awaiting response", CommandStatus.Sent),
        new TimeoutRejectedException("attempt timed out"),
        new TimeoutException(),
        Server(RedisErrorKind.Loading, "LOADING Redis is loading the dataset in memory"),
        Server(RedisErrorKind.ReadOnly, "READONLY You can't write against a read only replica."),
        Server(RedisErrorKind.Busy, "BUSY Redis is busy running a script."),
        Server(RedisErrorKind.MasterDown, "MASTERDOWN Link with MASTER is down"),
        Server(RedisErrorKind.TryAgain, "TRYAGAIN Multiple keys request during rehashing of slot"),
        Server(RedisErrorKind.ClusterDown, "CLUSTERDOWN The cluster is down"),
    };

    public static TheoryData<Exception> PermanentFailures => new()
    {
        Server(RedisErrorKind.WrongType, "WRONGTYPE Operation against a key holding the wrong kind of value"),
        Server(RedisErrorKind.UnknownCommand, "ERR unknown command 'FOO'"),
        Server(RedisErrorKind.NoScript, "NOSCRIPT No matching script."),
        Server(RedisErrorKind.NoAuth, "NOAUTH Authentication required."),
        Server(RedisErrorKind.OutOfMemory, "OOM command not allowed when used memory > 'maxmemory'."),
        Server(RedisErrorKind.Unknown, "loading in lower case is not the LOADING error"),
        new BrokenCircuitException(),
        new IsolatedCircuitException(),
        new InvalidOperationException(),
        new ArgumentException("bad"),
        new OperationCanceledException(),
    };

    [Theory]
    [MemberData(nameof(TransientFailures))]
    public void IsTransient_UnavailabilityFailures_True(Exception exception) =>
        Assert.True(ExceptionFactory.IsTransient(exception));

    [Theory]
    [MemberData(nameof(PermanentFailures))]
    public void IsTransient_OtherFailures_False(Exception exception) =>
        Assert.False(ExceptionFactory.IsTransient(exception));

    public static TheoryData<Exception, UnavailableReason> Mappings => new()
    {
        { new BrokenCircuitException(), UnavailableReason.CircuitOpen },
        { new IsolatedCircuitException(), UnavailableReason.CircuitOpen },
        { new TimeoutRejectedException(), UnavailableReason.Timeout },
        { new RedisTimeoutException(CommandFlags.None, "timeout", CommandStatus.Sent), UnavailableReason.Timeout },
        { new TimeoutException(), UnavailableReason.Timeout },
        { Server(RedisErrorKind.Loading, "LOADING Redis is loading the dataset in memory"), UnavailableReason.ServerUnavailable },
        { Server(RedisErrorKind.ReadOnly, "READONLY You can't write against a read only replica."), UnavailableReason.ServerUnavailable },
        { Connection(ConnectionFailureType.SocketFailure, "closed"), UnavailableReason.ConnectionFailed },
        { new InvalidOperationException("anything else"), UnavailableReason.ConnectionFailed },
        { Server(RedisErrorKind.Unknown, "OOM command not allowed when used memory > 'maxmemory'."), UnavailableReason.OutOfMemory },
    };

    [Theory]
    [InlineData("OOM command not allowed when used memory > 'maxmemory'.", true)]
    [InlineData("ERR Error running script (call to f_1): @user_script:1: OOM command not allowed when used memory > 'maxmemory'.", true)]
    [InlineData("ERR wrong number of arguments", false)]
    [InlineData("LOADING Redis is loading the dataset in memory", false)]
    public void IsOutOfMemory_OnlyTheMemoryLimit(string message, bool outOfMemory)
    {
        var exception = Server(RedisErrorKind.Unknown, message);

        Assert.Equal(outOfMemory, ExceptionFactory.IsOutOfMemory(exception));
        Assert.False(ExceptionFactory.IsTransient(exception) && outOfMemory, "Out of memory is not transient: retrying or opening the circuit does not help.");
    }

    [Theory]
    [MemberData(nameof(Mappings))]
    public void Unavailable_MapsToReason_KeepsOriginalAsInnerAndNamesOperation(Exception exception, UnavailableReason reason)
    {
        var mapped = ExceptionFactory.Unavailable("kv.get", exception);

        Assert.Equal(reason, mapped.Reason);
        Assert.Same(exception, mapped.InnerException);
        Assert.Contains("'kv.get'", mapped.Message, StringComparison.Ordinal);
        Assert.IsType<CoordinationException>(mapped, exactMatch: false);
    }

    [Fact]
    public void Unavailable_AlreadyMapped_ReturnedAsIs()
    {
        var original = ExceptionFactory.NoConnection("kv.set");

        Assert.Same(original, ExceptionFactory.Unavailable("kv.get", original));
    }

    [Fact]
    public void Unavailable_CircuitOpen_MessageSaysNotAttempted()
    {
        var mapped = ExceptionFactory.Unavailable("lock.acquire", new BrokenCircuitException());

        Assert.Contains("circuit is open", mapped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoConnection_ConnectionFailedWithoutInner()
    {
        var ex = ExceptionFactory.NoConnection("rent");

        Assert.Equal(UnavailableReason.ConnectionFailed, ex.Reason);
        Assert.Null(ex.InnerException);
        Assert.Contains("'rent'", ex.Message, StringComparison.Ordinal);
    }
}
