using System.Buffers;
using System.Text.Unicode;
using Google.Protobuf;
using Grpc.Core;
using HomaBone.Contracts.V1;

namespace HomaBone.Gateway.Services;

/// <summary>
/// QctService bound with a request marshaller of its own: the bytes of a file chunk are copied once, from the received
/// payload into a reused buffer (<see cref="UploadBuffers"/>), where protobuf's parser gives each chunk a fresh array.
/// Chunks in the encoding every protobuf library writes (field 2 holding file_id, kind and data, each at most once)
/// take this path; any other message (the header, unknown or repeated fields, anything malformed) is parsed by protobuf
/// as before, with its errors. The service name, method, messages and reflection are those of the generated code.
/// </summary>
internal static class QctServiceBinding
{
    private static readonly Method<AnalyzeSeriesRequest, AnalyzeSeriesResponse> AnalyzeSeriesMethod = new(
        MethodType.ClientStreaming,
        QctService.Descriptor.FullName,
        "AnalyzeSeries",
        Marshallers.Create<AnalyzeSeriesRequest>(Serialize, DeserializeRequest),
        Marshallers.Create<AnalyzeSeriesResponse>(Serialize, context => AnalyzeSeriesResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    /// <summary>The service's descriptor (gRPC reflection finds it beside the bound base class, as in generated code).</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => QctService.Descriptor;

    /// <summary>Binds AnalyzeSeries (called by Grpc.AspNetCore through <see cref="BindServiceMethodAttribute"/>).</summary>
    public static void BindService(ServiceBinderBase binder, QctServiceBase? implementation)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddMethod(AnalyzeSeriesMethod, implementation is null ? null : new ClientStreamingServerMethod<AnalyzeSeriesRequest, AnalyzeSeriesResponse>(implementation.AnalyzeSeries));
    }

    /// <summary>
    /// Reads a chunk in the common encoding, its data in a buffer from <see cref="UploadBuffers"/>; null for any other
    /// message (parsed by protobuf instead).
    /// </summary>
    internal static AnalyzeSeriesRequest? TryReadChunk(ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        if (!reader.TryRead(out var tag) || tag != 0x12 || !TryReadLength(ref reader, out var chunkLength) || chunkLength != reader.Remaining)
        {
            return null;
        }

        string? fileId = null;
        int? kind = null;
        byte[]? data = null;
        var dataLength = 0;
        var ok = true;
        while (ok && !reader.End)
        {
            reader.TryRead(out var field);
            switch (field)
            {
                case 0x0A when fileId is null:
                    ok = TryReadLength(ref reader, out var idLength);
                    if (ok)
                    {
                        var id = reader.UnreadSequence.Slice(0, idLength);
                        var bytes = id.IsSingleSegment ? id.FirstSpan : id.ToArray();
                        ok = Utf8.IsValid(bytes);
                        fileId = ok ? System.Text.Encoding.UTF8.GetString(bytes) : null;
                        reader.Advance(idLength);
                    }

                    break;
                case 0x10 when kind is null:
                    ok = TryReadVarint(ref reader, out var value);
                    kind = (int)value;
                    break;
                case 0x1A when data is null:
                    ok = TryReadLength(ref reader, out dataLength);
                    if (ok)
                    {
                        data = UploadBuffers.Rent(dataLength);
                        reader.UnreadSequence.Slice(0, dataLength).CopyTo(data);
                        reader.Advance(dataLength);
                    }

                    break;
                default:
                    ok = false;
                    break;
            }
        }

        if (!ok)
        {
            UploadBuffers.Return(data);
            return null;
        }

        return new AnalyzeSeriesRequest
        {
            Chunk = new FileChunk
            {
                FileId = fileId ?? string.Empty,
                Kind = (SeriesFileKind)(kind ?? 0),
                Data = data is null ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(data.AsMemory(0, dataLength)),
            },
        };
    }

    private static AnalyzeSeriesRequest DeserializeRequest(DeserializationContext context)
    {
        var payload = context.PayloadAsReadOnlySequence();
        return TryReadChunk(payload) ?? AnalyzeSeriesRequest.Parser.ParseFrom(payload);
    }

    private static void Serialize<T>(T message, SerializationContext context)
        where T : IBufferMessage
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }

    /// <summary>A length prefix that fits in the bytes left.</summary>
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

    /// <summary>The base class the service implements; Grpc.AspNetCore binds it through <see cref="BindService"/>.</summary>
    [BindServiceMethod(typeof(QctServiceBinding), nameof(BindService))]
    public abstract class QctServiceBase
    {
        /// <summary>QctService.AnalyzeSeries.</summary>
        public abstract Task<AnalyzeSeriesResponse> AnalyzeSeries(IAsyncStreamReader<AnalyzeSeriesRequest> requestStream, ServerCallContext context);
    }
}
