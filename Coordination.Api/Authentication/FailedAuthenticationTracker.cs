using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Coordination.Api.Authentication;

/// <summary>
/// Counts failed <c>X-Api-Key</c> attempts per remote address in a fixed window from the address's first failure
/// (see <see cref="AuthenticationThrottleOptions"/>). Holds at most <c>MaxTrackedAddresses</c> entries: the one whose
/// window started longest ago is dropped first. Thread-safe; time from <see cref="TimeProvider"/>.
/// </summary>
internal sealed class FailedAuthenticationTracker(IOptions<AuthenticationThrottleOptions> options, TimeProvider timeProvider)
{
    private readonly AuthenticationThrottleOptions _options = options.Value;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _byAge = new();

    /// <summary>The number of addresses tracked now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Whether <paramref name="address"/> has used up its failures; if so, <paramref name="retryAfter"/> says for how long.</summary>
    public bool IsBlocked(IPAddress? address, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (address is null)
        {
            return false;
        }

        var key = KeyOf(address);
        var now = timeProvider.GetTimestamp();
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node) || node.Value.Failures < _options.FailureLimit)
            {
                return false;
            }

            var left = _options.Window - timeProvider.GetElapsedTime(node.Value.WindowStart, now);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            retryAfter = left;
            return true;
        }
    }

    /// <summary>Counts one failed attempt from <paramref name="address"/>.</summary>
    public void RecordFailure(IPAddress? address)
    {
        if (address is null)
        {
            return;
        }

        var key = KeyOf(address);
        var now = timeProvider.GetTimestamp();
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                if (timeProvider.GetElapsedTime(node.Value.WindowStart, now) < _options.Window)
                {
                    node.Value.Failures++;
                    return;
                }

                // The window is over: a new one starts now, so the entry becomes the youngest.
                _byAge.Remove(node);
                node.Value.WindowStart = now;
                node.Value.Failures = 1;
                _byAge.AddLast(node);
                return;
            }

            while (_entries.Count >= _options.MaxTrackedAddresses && _byAge.First is { } oldest)
            {
                _byAge.RemoveFirst();
                _entries.Remove(oldest.Value.Key);
            }

            _entries[key] = _byAge.AddLast(new Entry(key) { WindowStart = now, Failures = 1 });
        }
    }

    // IPv4 (also when mapped into IPv6) by the address, IPv6 by its /64: one host usually holds a whole /64.
    private static string KeyOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }

    private sealed class Entry(string key)
    {
        public string Key { get; } = key;

        public long WindowStart { get; set; }

        public int Failures { get; set; }
    }
}
