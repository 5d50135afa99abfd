using System.Buffers;
using Google.Protobuf;
using HomaBone.Contracts.V1;
using HomaBone.Gateway.Services;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// QctService's own request reader: every chunk it reads equals protobuf's parse of the same bytes (in one segment or
/// split across many), with the data in a reused buffer; every message it does not read (header, unknown or repeated
/// fields, malformed) is left to protobuf; and the buffers are bounded.
/// </summary>
[Collection(nameof(UploadChunkReaderTests))]
public sealed class UploadChunkReaderTests
{
    public static TheoryData<int> DataSizes => [0, 1, 1000, 64 * 1024, (64 * 1024) + 1, 525_000, 1 << 20, (1 << 20) + 1];

    [Theory]
    [MemberData(nameof(DataSizes))]
    public void AChunk_ReadsAsProtobufReadsIt_InOneSegmentOrMany(int size)
    {
        var random = new Random(size);
        var data = new byte[size];
        random.NextBytes(data);
        foreach (var (id, kind) in new[] { ("ct/0001.dcm", SeriesFileKind.Ct), ("labels/ünï-©ode.dcm", SeriesFileKind.Label), (string.Empty, SeriesFileKind.Unspecified), ("x", (SeriesFileKind)(-3)), ("y", (SeriesFileKind)77) })
        {
            var message = new AnalyzeSeriesRequest { Chunk = new FileChunk { FileId = id, Kind = kind, Data = ByteString.CopyFrom(data) } };
            var bytes = message.ToByteArray();
            foreach (var segmentSize in new[] { bytes.Length, 7, 4096, 65536 })
            {
                var payload = Segmented(bytes, Math.Max(1, segmentSize));
                var expected = AnalyzeSeriesRequest.Parser.ParseFrom(payload);
                var read = QctServiceBinding.TryReadChunk(payload);
                Assert.NotNull(read);
                Assert.Equal(expected, read);
                Assert.Equal(message, read);
            }
        }
    }

    [Fact]
    public void EveryOtherMessage_IsLeftToProtobuf()
    {
        var chunk = new FileChunk { FileId = "a", Kind = SeriesFileKind.Ct, Data = ByteString.CopyFrom(1, 2, 3) };
        var header = new AnalyzeSeriesRequest { Header = new AnalyzeSeriesHeader { PhantomSerial = "s" } }.ToByteArray();
        var valid = new AnalyzeSeriesRequest { Chunk = chunk }.ToByteArray();
        var chunkBytes = chunk.ToByteArray();
        byte[] Wrap(byte[] inner) => [0x12, (byte)inner.Length, .. inner];
        var cases = new Dictionary<string, byte[]>
        {
            ["header"] = header,
            ["empty message"] = [],
            ["unknown field in the chunk"] = Wrap([.. chunkBytes, 0x20, 0x01]),
            ["repeated file_id"] = Wrap([.. chunkBytes, 0x0A, 0x01, (byte)'b']),
            ["repeated data"] = Wrap([.. chunkBytes, 0x1A, 0x01, 0x09]),
            ["two chunks in one message"] = [.. valid, .. valid],
            ["invalid UTF-8 in file_id"] = Wrap([0x0A, 0x02, 0xC3, 0x28]),
            ["truncated data"] = valid[..^1],
            ["length beyond the message"] = [0x12, 0x05, 0x0A, 0x09, 0x61],
            ["varint too long"] = Wrap([0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        };
        foreach (var (name, bytes) in cases)
        {
            Assert.True(QctServiceBinding.TryReadChunk(new ReadOnlySequence<byte>(bytes)) is null, name);
        }

        // Still what protobuf makes of them (the last file_id wins, as protobuf has it).
        Assert.Equal("b", AnalyzeSeriesRequest.Parser.ParseFrom(cases["repeated file_id"]).Chunk.FileId);
    }

    [Fact]
    public void UploadBuffers_AreReusedBySizeClass_AndBounded()
    {
        UploadBuffers.Release();
        var a = UploadBuffers.Rent(525_000);
        Assert.Equal(9 * UploadBuffers.Granularity, a.Length);
        UploadBuffers.Return(a);
        Assert.Same(a, UploadBuffers.Rent(8 * UploadBuffers.Granularity + 1));
        Assert.NotSame(a, UploadBuffers.Rent(525_000));
        Assert.Equal((1 << 20) + 1, UploadBuffers.Rent((1 << 20) + 1).Length); // larger than any chunk: a plain array

        UploadBuffers.Return(new byte[1000]); // not a pooled size
        Assert.Equal(0, UploadBuffers.RetainedBytes);
        for (var i = 0; i < (UploadBuffers.MaxRetainedBytes / UploadBuffers.MaxBufferBytes) + 5; i++)
        {
            UploadBuffers.Return(new byte[UploadBuffers.MaxBufferBytes]);
        }

        Assert.Equal(UploadBuffers.MaxRetainedBytes / UploadBuffers.MaxBufferBytes * UploadBuffers.MaxBufferBytes, UploadBuffers.RetainedBytes);
        UploadBuffers.Release();
        Assert.Equal(0, UploadBuffers.RetainedBytes);
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int segmentSize)
    {
        if (bytes.Length <= segmentSize)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        Segment? first = null, last = null;
        for (var offset = 0; offset < bytes.Length; offset += segmentSize)
        {
            var memory = bytes.AsMemory(offset, Math.Min(segmentSize, bytes.Length - offset));
            last = last is null ? first = new Segment(memory, 0) : last.Append(memory);
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

/// <summary>The buffers are process-wide: these tests run alone.</summary>
[CollectionDefinition(nameof(UploadChunkReaderTests), DisableParallelization = true)]
public sealed class UploadChunkReaderSerial;
