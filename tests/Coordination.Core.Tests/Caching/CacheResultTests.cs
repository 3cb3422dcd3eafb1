namespace Coordination.Core.Tests.Caching;

public class CacheResultTests
{
    [Fact]
    public void Equality_AndToString()
    {
        var a = new CacheResult<int>(1, CacheSource.Redis);
        var b = new CacheResult<int>(1, CacheSource.Redis);
        var stale = new CacheResult<int>(1, CacheSource.Memory, isStale: true);

        Assert.True(a == b);
        Assert.True(a != stale);
        Assert.True(a.Equals((object)b));
        Assert.False(a.Equals("x"));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal("1 (Redis)", a.ToString());
        Assert.Equal("1 (Memory, stale)", stale.ToString());
        Assert.Equal("(none)", default(CacheResult<int>).ToString());
        Assert.False(default(CacheResult<int>).HasValue);
    }

    [Fact]
    public void FactoryTimeoutException_CarriesTimeout()
    {
        var ex = new CacheFactoryTimeoutException(TimeSpan.FromMilliseconds(250));

        Assert.Equal(TimeSpan.FromMilliseconds(250), ex.Timeout);
        Assert.Contains("250 ms", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<CoordinationException>(ex);
    }
}
