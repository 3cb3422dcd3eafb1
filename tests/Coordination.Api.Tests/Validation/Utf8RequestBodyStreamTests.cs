using System.Text;
using System.Text.Json;
using Coordination.Api.Validation;

namespace Coordination.Api.Tests.Validation;

public sealed class Utf8RequestBodyStreamTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4096)]
    public async Task ReadAsync_ValidUtf8SplitAcrossReads_PassesEveryByteThrough(int readSize)
    {
        var bytes = Encoding.UTF8.GetBytes("{\"value\":\"aé€😀z\"}");
        using var stream = new Utf8RequestBodyStream(new MemoryStream(bytes));

        Assert.Equal(bytes, await ReadAllAsync(stream, readSize));
    }

    [Fact]
    public void Read_Synchronously_ChecksToo()
    {
        using var valid = new Utf8RequestBodyStream(new MemoryStream("é"u8.ToArray()));
        var buffer = new byte[8];
        Assert.Equal(1, valid.Read(buffer, 0, 1));
        Assert.Equal(1, valid.Read(buffer, 1, 1));
        Assert.Equal(0, valid.Read(buffer, 2, 6));
        Assert.Equal("é"u8.ToArray(), buffer[..2]);

        using var invalid = new Utf8RequestBodyStream(new MemoryStream([0x41, 0xFF]));
        Assert.Throws<JsonException>(() => invalid.Read(buffer, 0, buffer.Length));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC3, 0x28 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0x41, 0xE2, 0x82 })]
    public async Task ReadAsync_InvalidOrCutOffSequence_ThrowsJsonExceptionWithTheDecoderFailure(byte[] bytes)
    {
        using var stream = new Utf8RequestBodyStream(new MemoryStream(bytes));

        var exception = await Assert.ThrowsAsync<JsonException>(() => ReadAllAsync(stream, 1));
        Assert.IsType<DecoderFallbackException>(exception.InnerException);
    }

    [Fact]
    public async Task ReadAsync_ArrayOverload_ChecksToo()
    {
        using var stream = new Utf8RequestBodyStream(new MemoryStream([0x41, 0xC3]));
        var buffer = new byte[4];

        // The array overload itself is under test here.
#pragma warning disable CA1835
        Assert.Equal(2, await stream.ReadAsync(buffer, 0, buffer.Length, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<JsonException>(() => stream.ReadAsync(buffer, 0, buffer.Length, TestContext.Current.CancellationToken));
#pragma warning restore CA1835
    }

    [Fact]
    public void Stream_IsReadOnlyAndForwardOnly()
    {
        using var stream = new Utf8RequestBodyStream(new MemoryStream());

        Assert.True(stream.CanRead);
        Assert.False(stream.CanSeek);
        Assert.False(stream.CanWrite);
        Assert.Throws<NotSupportedException>(() => stream.Length);
        Assert.Throws<NotSupportedException>(() => stream.Position);
        Assert.Throws<NotSupportedException>(() => stream.Position = 0);
        Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => stream.SetLength(0));
        Assert.Throws<NotSupportedException>(() => stream.Write([1], 0, 1));
        stream.Flush();
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream, int readSize)
    {
        var result = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0)
        {
            result.Write(buffer, 0, read);
        }

        return result.ToArray();
    }
}
