using System.Text;
using System.Text.Json;

namespace Coordination.Api.Validation;

/// <summary>
/// A request body that checks, as it is read, that it is UTF-8 (JSON must be, RFC 8259): the JSON reader leaves
/// string contents unchecked, so without this a value or an ignored field with invalid bytes would be accepted and
/// stored with replacement characters. Invalid bytes (or a sequence cut off at the end) throw a
/// <see cref="JsonException"/> whose inner exception is the <see cref="DecoderFallbackException"/>, which the
/// binder reports like any other unreadable JSON body.
/// </summary>
internal sealed class Utf8RequestBodyStream(Stream inner) : Stream
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetDecoder();
    private readonly char[] _scratch = new char[1024];

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Check(buffer.AsSpan(offset, read));
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Check(buffer.Span[..read]);
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    // The decoder keeps a sequence split between two reads; an empty read is the end, where none may be left.
    private void Check(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var flush = bytes.IsEmpty;
            do
            {
                _decoder.Convert(bytes, _scratch, flush, out var used, out _, out _);
                bytes = bytes[used..];
            }
            while (!bytes.IsEmpty);
        }
        catch (DecoderFallbackException ex)
        {
            throw new JsonException("The body is not valid UTF-8.", ex);
        }
    }
}
