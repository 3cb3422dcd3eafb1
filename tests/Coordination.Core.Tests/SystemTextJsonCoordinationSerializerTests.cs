using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Coordination.Core.Tests;

public class SystemTextJsonCoordinationSerializerTests
{
    private readonly SystemTextJsonCoordinationSerializer _serializer = new();

    public sealed record Order(string Id, decimal Total, IReadOnlyList<string> Lines, DateTimeOffset PlacedAt, Order? Parent = null);

    [Fact]
    public void RoundTrip_Record_EqualValue()
    {
        var order = new Order("o-1", 12.50m, ["a", "b"], new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)), new Order("o-0", 1m, [], DateTimeOffset.UnixEpoch));

        var back = RoundTrip(order);

        Assert.NotNull(back);
        Assert.Equal(order.Id, back.Id);
        Assert.Equal(order.Total, back.Total);
        Assert.Equal(order.Lines, back.Lines);
        Assert.Equal(order.PlacedAt, back.PlacedAt);
        Assert.Equal(order.Parent!.Id, back.Parent!.Id);
    }

    [Fact]
    public void Serialize_Record_UsesWebDefaultsCamelCase()
    {
        var json = Encoding.UTF8.GetString(Bytes(new Order("o-1", 1m, [], DateTimeOffset.UnixEpoch)));

        Assert.Contains("\"id\":\"o-1\"", json, StringComparison.Ordinal);
        Assert.Contains("\"placedAt\":", json, StringComparison.Ordinal);
    }

    [Fact]
    public void RoundTrip_Primitives_EqualValues()
    {
        Assert.Equal(42, RoundTrip(42));
        Assert.Equal(-1L, RoundTrip(-1L));
        Assert.Equal(long.MaxValue, RoundTrip(long.MaxValue));
        Assert.Equal(3.25, RoundTrip(3.25));
        Assert.True(RoundTrip(true));
        Assert.Equal("h\u00e9llo \U0001F600 \"quoted\"", RoundTrip("h\u00e9llo \U0001F600 \"quoted\""));
        Assert.Equal(string.Empty, RoundTrip(string.Empty));
        Assert.Equal(Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff"), RoundTrip(Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff")));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), RoundTrip(TimeSpan.FromMilliseconds(1500)));
        Assert.Equal([1, 2, 3], RoundTrip(new[] { 1, 2, 3 })!);
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1 }, RoundTrip(new Dictionary<string, int> { ["a"] = 1 }));
    }

    [Fact]
    public void RoundTrip_JsonElement_SameJson()
    {
        using var document = JsonDocument.Parse("""{"a":[1,2,{"b":null}],"c":"d"}""");

        var back = RoundTrip(document.RootElement);

        Assert.Equal(document.RootElement.GetRawText(), back.GetRawText());
        Assert.True(JsonElement.DeepEquals(document.RootElement, back));
    }

    [Fact]
    public void RoundTrip_Null_StaysNull()
    {
        Assert.Equal("null", Encoding.UTF8.GetString(Bytes<string?>(null)));
        Assert.Null(RoundTrip<string?>(null));
        Assert.Null(RoundTrip<Order?>(null));
        Assert.Null(RoundTrip<int?>(null));
    }

    [Fact]
    public void Deserialize_ValueOfAnotherType_ThrowsCoordinationSerializationException()
    {
        var bytes = Bytes("not a number");

        var ex = Assert.Throws<CoordinationSerializationException>(() => _serializer.Deserialize<int>(bytes));

        Assert.IsType<JsonException>(ex.InnerException, exactMatch: false);
        Assert.Contains("Int32", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0xFF, 0xFE, 0x00 })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'a' })]
    [InlineData(new byte[] { (byte)'n', (byte)'u', (byte)'l' })]
    public void Deserialize_BadBytes_ThrowsCoordinationSerializationException(byte[] bytes)
    {
        var ex = Assert.Throws<CoordinationSerializationException>(() => _serializer.Deserialize<Order>(bytes));

        Assert.IsType<JsonException>(ex.InnerException, exactMatch: false);
        Assert.IsType<CoordinationException>(ex, exactMatch: false);
    }

    [Fact]
    public void Constructor_CustomOptions_Used()
    {
        var serializer = new SystemTextJsonCoordinationSerializer(new JsonSerializerOptions { PropertyNamingPolicy = null });
        var buffer = new ArrayBufferWriter<byte>();

        serializer.Serialize(new Order("o-1", 1m, [], DateTimeOffset.UnixEpoch), buffer);

        Assert.Contains("\"Id\":\"o-1\"", Encoding.UTF8.GetString(buffer.WrittenSpan), StringComparison.Ordinal);
    }

    private byte[] Bytes<T>(T value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        _serializer.Serialize(value, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private T? RoundTrip<T>(T value) => _serializer.Deserialize<T>(Bytes(value));
}
