using System.Diagnostics;

namespace Coordination.Core.Tests.Caching;

/// <summary>The sampled hot-key counter: sampling, bounds, draining, and the cost of the read path.</summary>
public class HotKeyTrackerTests
{
    [Fact]
    public void Record_OneInFour_CountsAQuarterOfTheReadsOfEachThread()
    {
        var tracker = new HotKeyTracker(sampleRate: 4, capacity: 10);
        KeyValuePair<string, long>[] counts = [];
        var thread = new Thread(() => // a fresh thread: its sampling countdown starts from zero
        {
            for (var i = 0; i < 4000; i++)
            {
                tracker.Record(i % 2 == 0 ? "a" : "b"); // alternating keys: the sample lands on one of them
            }

            counts = tracker.Drain(10);
        });
        thread.Start();
        thread.Join();

        Assert.Equal(1000, counts.Sum(c => c.Value));
    }

    [Fact]
    public void Drain_ReturnsTheTopKeysMostReadFirst_AndResets()
    {
        var tracker = new HotKeyTracker(sampleRate: 1, capacity: 3);
        foreach (var (key, reads) in new[] { ("x", 5), ("y", 9), ("z", 1), ("overflow", 50) })
        {
            for (var i = 0; i < reads; i++)
            {
                tracker.Record(key);
            }
        }

        var top = tracker.Drain(2);
        var empty = tracker.Drain(10);

        Assert.Equal([new("y", 9), new("x", 5)], top); // "overflow" came after the table was full
        Assert.Empty(empty);
    }

    [Fact]
    public void Record_KnownKeys_AllocatesNothing_AndCostsNanoseconds()
    {
        var tracker = new HotKeyTracker(sampleRate: 64, capacity: 1024);
        var keys = Enumerable.Range(0, 100).Select(i => $"product:{i}").ToArray();
        foreach (var key in keys)
        {
            for (var i = 0; i < 64; i++)
            {
                tracker.Record(key); // every key known to the table
            }
        }

        const int Reads = 5_000_000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp(); // not a Stopwatch instance: it would be counted as allocated
        for (var i = 0; i < Reads; i++)
        {
            tracker.Record(keys[i % 100]);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var elapsed = Stopwatch.GetElapsedTime(started);
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] HotKeyTracker.Record (1 in 64 sampled): {elapsed.TotalNanoseconds / Reads:F2} ns per read, {allocated} B allocated over {Reads} reads");

        Assert.Equal(0, allocated);
        Assert.True(elapsed.TotalNanoseconds / Reads < 100, $"{elapsed.TotalNanoseconds / Reads} ns per read");
    }
}
