namespace Coordination;

/// <summary>What the pool should do after a load sample.</summary>
internal enum PoolScaleDecision
{
    None,
    Grow,
    Shrink,
}

/// <summary>One load sample of the pool, taken every scaling interval.</summary>
/// <param name="Size">Connections in the pool.</param>
/// <param name="Connected">Connections connected now.</param>
/// <param name="PeakOutstanding">The most operations in flight on the pool at once during the interval.</param>
/// <param name="LightLoadFor">How long the pool has been lightly loaded without a break.</param>
internal readonly record struct PoolLoadSample(int Size, int Connected, int PeakOutstanding, TimeSpan LightLoadFor);

/// <summary>The pool's sizing rules, kept free of I/O so they can be tested on their own.</summary>
internal static class PoolScaler
{
    public static PoolScaleDecision Decide(PoolLoadSample sample, ConnectionPoolOptions options)
    {
        if (sample.Size < options.MinConnections)
        {
            return PoolScaleDecision.Grow;
        }

        // Growing while connections are down would only add more connections that cannot connect.
        if (sample.Size < options.MaxConnections
            && sample.Connected == sample.Size
            && sample.PeakOutstanding >= (long)options.GrowThreshold * sample.Size)
        {
            return PoolScaleDecision.Grow;
        }

        if (sample.Size > options.MinConnections && sample.LightLoadFor >= options.ShrinkAfterIdle)
        {
            return PoolScaleDecision.Shrink;
        }

        return PoolScaleDecision.None;
    }

    /// <summary>Light load: the peak would fit in one connection fewer at a quarter of the growth threshold.</summary>
    public static bool IsLightLoad(PoolLoadSample sample, ConnectionPoolOptions options) =>
        sample.Size <= 1 || sample.PeakOutstanding < (long)options.GrowThreshold * (sample.Size - 1) / 4;

    /// <summary>Picks the connected connection with the fewest operations in flight (the first on ties); -1 when none is connected.</summary>
    public static int PickLeastLoaded<T>(ReadOnlySpan<T> connections)
        where T : IConnectionLoad
    {
        var best = -1;
        var bestOutstanding = int.MaxValue;
        for (var i = 0; i < connections.Length; i++)
        {
            var connection = connections[i];
            if (connection.IsConnected && connection.Outstanding < bestOutstanding)
            {
                best = i;
                bestOutstanding = connection.Outstanding;
            }
        }

        return best;
    }
}

/// <summary>What routing needs to know of a connection.</summary>
internal interface IConnectionLoad
{
    bool IsConnected { get; }

    int Outstanding { get; }
}
