using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using HomaBone.Contracts.V1;

namespace HomaBone.Gateway.Services;

/// <summary>
/// The gRPC method of <c>QctService.AnalyzeSeries</c> with its own request marshaller: a file chunk's bytes are copied
/// from the HTTP/2 buffers once, into a pooled buffer (<see cref="UploadBuffers"/>), instead of into a new array per
/// chunk (≈ 100 MB of fresh large-object memory per series: zeroed, page-faulted and collected every request).
/// Anything but a plain chunk (the header, unknown or repeated fields, invalid UTF-8) is parsed by the generated parser.
/// </summary>
internal static class QctUpload
{
    /// <summary>The method, as the generated code declares it, with the request marshaller of <see cref="Parse"/>.</summary>
    public static readonly Method<AnalyzeSeriesRequest, AnalyzeSeriesResponse> AnalyzeSeries = new(
        MethodType.ClientStreaming,
        "homabone.v1.QctService",
        "AnalyzeSeries",
        Marshallers.Create<AnalyzeSeriesRequest>(Serialize, Deserialize),
        Marshallers.Create<AnalyzeSeriesResponse>(Serialize, context => AnalyzeSeriesResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    private const uint ChunkTag = (2 << 3) | 2;
    private const uint FileIdTag = (1 << 3) | 2;
    private const uint KindTag = 2 << 3;
    private const uint DataTag = (3 << 3) | 2;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses one request message: a plain chunk into a pooled buffer, anything else with the generated parser.</summary>
    public static AnalyzeSeriesRequest Parse(ReadOnlySequence<byte> payload) =>
        TryParseChunk(payload) ?? AnalyzeSeriesRequest.Parser.ParseFrom(payload);

    private static AnalyzeSeriesRequest Deserialize(DeserializationContext context) => Parse(context.PayloadAsReadOnlySequence());

    private static void Serialize<T>(T message, SerializationContext context)
        where T : IMessage
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }

    /// <summary>A message holding only a chunk, each of its fields at most once; null for anything else.</summary>
    private static AnalyzeSeriesRequest? TryParseChunk(ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        if (!TryReadVarint(ref reader, out var tag) || tag != ChunkTag || !TryReadVarint(ref reader, out var length) || length != (ulong)reader.Remaining)
        {
            return null;
        }

        string? fileId = null;
        ulong? kind = null;
        ByteString? data = null;
        while (!reader.End)
        {
            if (!TryReadVarint(ref reader, out tag))
            {
                return null;
            }

            switch (tag)
            {
                case FileIdTag when fileId is null:
                    if (!TryReadLength(ref reader, out var idLength))
                    {
                        return null;
                    }

                    try
                    {
                        fileId = StrictUtf8.GetString(reader.UnreadSequence.Slice(0, idLength));
                    }
                    catch (DecoderFallbackException)
                    {
                        return null;
                    }

                    reader.Advance(idLength);
                    break;
                case KindTag when kind is null:
                    if (!TryReadVarint(ref reader, out var value))
                    {
                        return null;
                    }

                    kind = value;
                    break;
                case DataTag when data is null:
                    if (!TryReadLength(ref reader, out var dataLength))
                    {
                        return null;
                    }

                    if (dataLength == 0)
                    {
                        data = ByteString.Empty;
                        break;
                    }

                    var buffer = UploadBuffers.Rent(dataLength);
                    reader.UnreadSequence.Slice(0, dataLength).CopyTo(buffer);
                    reader.Advance(dataLength);
                    data = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, dataLength));
                    break;
                default:
                    return null;
            }
        }

        // An enum is an int32 on the wire (a negative one sign-extended to 64 bits).
        return new AnalyzeSeriesRequest { Chunk = new FileChunk { FileId = fileId ?? string.Empty, Kind = (SeriesFileKind)(int)(kind ?? 0), Data = data ?? ByteString.Empty } };
    }

    private static bool TryReadLength(ref SequenceReader<byte> reader, out int length)
    {
        length = 0;
        if (!TryReadVarint(ref reader, out var value) || value > (ulong)reader.Remaining)
        {
            return false;
        }

        length = (int)value;
        return true;
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// Buffers for uploaded files, reused across requests: sizes rounded up to 64 KiB (a series' slices differ by a few
/// header bytes), at most <see cref="MaxRetainedBytes"/> kept, all dropped after <see cref="IdleTrim"/> without an upload.
/// Smaller requests get an exact, unpooled array. A buffer is returned only when nothing refers to it any more.
/// </summary>
internal static class UploadBuffers
{
    /// <summary>Size granularity, and the smallest pooled size.</summary>
    public const int Granularity = 64 * 1024;

    /// <summary>Most bytes kept in the pool.</summary>
    public const long MaxRetainedBytes = 256L << 20;

    /// <summary>How long the pool is kept without a return.</summary>
    public static readonly TimeSpan IdleTrim = TimeSpan.FromMinutes(1);

    private static readonly ConcurrentDictionary<int, ConcurrentBag<byte[]>> Free = new();
    private static readonly Timer Trim = new(_ => TrimIfIdle(), null, Timeout.Infinite, Timeout.Infinite);
    private static long _retained;
    private static long _lastReturn;
    private static int _trimArmed;

    /// <summary>Bytes currently held by the pool.</summary>
    public static long Retained => Interlocked.Read(ref _retained);

    /// <summary>A buffer of at least <paramref name="length"/> bytes; its contents are undefined.</summary>
    public static byte[] Rent(int length)
    {
        if (length < Granularity)
        {
            return new byte[length];
        }

        var size = (int)Math.Min(Array.MaxLength, ((long)length + Granularity - 1) / Granularity * Granularity);
        if (Free.TryGetValue(size, out var bag) && bag.TryTake(out var buffer))
        {
            Interlocked.Add(ref _retained, -size);
            return buffer;
        }

        return GC.AllocateUninitializedArray<byte>(size);
    }

    /// <summary>Gives a buffer back (any array of a pooled size; others are left to the GC).</summary>
    public static void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length < Granularity || buffer.Length % Granularity != 0)
        {
            return;
        }

        if (Interlocked.Add(ref _retained, buffer.Length) > MaxRetainedBytes)
        {
            Interlocked.Add(ref _retained, -buffer.Length);
            return;
        }

        Free.GetOrAdd(buffer.Length, _ => []).Add(buffer);
        Volatile.Write(ref _lastReturn, Environment.TickCount64);
        if (Interlocked.Exchange(ref _trimArmed, 1) == 0)
        {
            Trim.Change(IdleTrim, Timeout.InfiniteTimeSpan);
        }
    }

    private static void TrimIfIdle()
    {
        var idle = TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastReturn));
        if (idle < IdleTrim)
        {
            Trim.Change(IdleTrim - idle, Timeout.InfiniteTimeSpan);
            return;
        }

        Volatile.Write(ref _trimArmed, 0);
        foreach (var bag in Free.Values)
        {
            while (bag.TryTake(out var buffer))
            {
                Interlocked.Add(ref _retained, -buffer.Length);
            }
        }

        // A return racing with the trim re-arms the timer itself when it sees _trimArmed at 0.
        if (Retained > 0 && Interlocked.Exchange(ref _trimArmed, 1) == 0)
        {
            Trim.Change(IdleTrim, Timeout.InfiniteTimeSpan);
        }
    }
}
