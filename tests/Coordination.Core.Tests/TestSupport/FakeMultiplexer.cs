using System.Net;
using System.Reflection;
using StackExchange.Redis;

namespace Coordination.Core.Tests.TestSupport;

/// <summary>
/// A stand-in for <see cref="IConnectionMultiplexer"/> that answers only what the pool's bookkeeping reads
/// (<see cref="IConnectionMultiplexer.IsConnected"/>, <see cref="IConnectionMultiplexer.GetEndPoints"/>) and fails
/// loudly on anything else, so a test cannot pass by accident through a member the fake does not model.
/// </summary>
#pragma warning disable CA1852 // DispatchProxy derives a type from this one, so it cannot be sealed.
internal class FakeMultiplexer : DispatchProxy
#pragma warning restore CA1852
{
    public bool Connected { get; set; } = true;

    public EndPoint[] EndPoints { get; set; } = [new IPEndPoint(IPAddress.Loopback, 6379)];

    public static IConnectionMultiplexer Create(bool connected = true)
    {
        var proxy = DispatchProxy.Create<IConnectionMultiplexer, FakeMultiplexer>();
        Of(proxy).Connected = connected;
        return proxy;
    }

    public static FakeMultiplexer Of(IConnectionMultiplexer multiplexer) => (FakeMultiplexer)(object)multiplexer;

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
    {
        "get_IsConnected" => Connected,
        "GetEndPoints" => EndPoints,
        _ => throw new NotSupportedException($"FakeMultiplexer does not model {targetMethod?.Name}."),
    };
}
