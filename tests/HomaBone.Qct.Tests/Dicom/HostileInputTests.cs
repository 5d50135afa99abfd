using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using HomaBone.Qct.Dicom;
using Xunit.Abstractions;

namespace HomaBone.Qct.Tests.Dicom;

public sealed class HostileInputTests(ITestOutputHelper output)
{
    [Fact]
    public void Open_DeepNesting_ThrowsFormatExceptionNamingLimit()
    {
        var bytes = new ByteWriter();
        for (var i = 0; i < 100_000; i++)
        {
            bytes.ExplicitUndefinedSequence(0x0008, 0x1140);
            bytes.UndefinedItem();
        }

        var ex = Assert.Throws<DicomFormatException>(() => DicomFile.Open(bytes.ToArray()));
        Assert.Contains("MaxNestingDepth", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_NestingWithinLimit_Parses()
    {
        var bytes = new ByteWriter();
        bytes.Text(0x0008, 0x0060, "CS", "CT");
        for (var i = 0; i < 10; i++)
        {
            bytes.ExplicitUndefinedSequence(0x0008, 0x1140);
            bytes.UndefinedItem();
        }

        bytes.Text(0x0010, 0x0020, "LO", "DEEP");
        for (var i = 0; i < 10; i++)
        {
            bytes.ItemDelimiter();
            bytes.SequenceDelimiter();
        }

        var file = DicomFile.Open(bytes.ToArray());
        var dataset = file.Dataset;
        for (var i = 0; i < 10; i++)
        {
            dataset = dataset.GetSequence(DicomTag.ReferencedImageSequence).Items[0];
        }

        Assert.Equal("DEEP", dataset.GetSingleValue<string>(DicomTag.PatientID));
    }

    [Fact]
    public void Open_HugeDeclaredLength_ThrowsWithoutAllocating()
    {
        var bytes = new ByteWriter();
        bytes.Text(0x0008, 0x0060, "CS", "CT");
        bytes.LongHeader(0x7FE0, 0x0010, "OW", 0xFFFFFFF0);
        bytes.Raw(new byte[64]);
        var data = bytes.ToArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<DicomFormatException>(() => DicomFile.Open(data));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
        Assert.Contains("MaxElementLength", ex.Message, StringComparison.Ordinal);

        var lying = new ByteWriter();
        lying.Text(0x0008, 0x0060, "CS", "CT");
        lying.LongHeader(0x7FE0, 0x0010, "OW", 4096);
        lying.Raw(new byte[64]);
        var ex2 = Assert.Throws<DicomFormatException>(() => DicomFile.Open(lying.ToArray()));
        Assert.Contains("only 64 bytes remain", ex2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_OddLength_RefusedUnlessAllowed()
    {
        var bytes = new ByteWriter();
        bytes.Header(0x0010, 0x0020, "LO", 3);
        bytes.Raw("ABC"u8.ToArray());
        var data = bytes.ToArray();
        Assert.Throws<DicomFormatException>(() => DicomFile.Open(data));
        var file = DicomFile.Open(data, new DicomReadOptions { AllowOddLengths = true });
        Assert.Equal("ABC", file.Dataset.GetSingleValue<string>(DicomTag.PatientID));
    }

    [Fact]
    public void Open_TruncatedAndEmpty_ThrowFormatException()
    {
        Assert.Throws<DicomFormatException>(() => DicomFile.Open([]));
        var bytes = new ByteWriter();
        bytes.Text(0x0010, 0x0020, "LO", "ABCDEF");
        var data = bytes.ToArray();
        for (var cut = 1; cut < data.Length; cut++)
        {
            var prefix = data[..cut];
            Assert.Throws<DicomFormatException>(() => DicomFile.Open(prefix));
        }
    }

    [Fact]
    public void Open_UnterminatedUndefinedSequence_ThrowsFormatException()
    {
        var bytes = new ByteWriter();
        bytes.ExplicitUndefinedSequence(0x0008, 0x1140);
        bytes.UndefinedItem();
        bytes.Text(0x0008, 0x1150, "UI", "1.2.3");
        Assert.Throws<DicomFormatException>(() => DicomFile.Open(bytes.ToArray()));
    }

    [Fact]
    public void Open_DeflateBomb_RefusedAboveMaxTotalSize()
    {
        var inner = new ByteWriter();
        inner.LongHeader(0x0009, 0x1010, "OB", 64 << 20);
        inner.Raw(new byte[64 << 20]);
        using var compressed = new MemoryStream();
        using (var deflate = new DeflateStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            deflate.Write(inner.ToArray());
        }

        var file = ByteWriter.Part10(DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid, compressed.ToArray());
        Assert.True(file.Length < 1_000_000);
        var ex = Assert.Throws<DicomFormatException>(() => DicomFile.Open(file, new DicomReadOptions { MaxTotalSize = 16 << 20 }));
        Assert.Contains("MaxTotalSize", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_TooManyElements_ThrowsFormatException()
    {
        var bytes = new ByteWriter();
        for (var i = 0; i < 2000; i++)
        {
            bytes.Header(0x0009, (ushort)(0x1000 + i), "LO", 0);
        }

        Assert.Throws<DicomFormatException>(() => DicomFile.Open(bytes.ToArray(), new DicomReadOptions { MaxElementCount = 1000 }));
        Assert.Equal(2000, DicomFile.Open(bytes.ToArray()).Dataset.Count);
    }

    [Fact]
    public void Open_LossyFlagSyntax_RefusedAsLossy()
    {
        var file = ByteWriter.Part10(DicomTransferSyntax.JPEGBaseline.Uid, new byte[16]);
        var ex = Assert.Throws<DicomUnsupportedTransferSyntaxException>(() => DicomFile.Open(file));
        Assert.Contains("lossy", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("1.2.840.10008.1.2.4.50", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Seeded fuzzing of real files (every native syntax) with bit flips, truncations, corrupted length fields,
    /// overwritten and spliced ranges and inserted deep nesting: each file must parse or raise one of the two
    /// reader exceptions, each within a time bound.
    /// </summary>
    [Fact]
    public void Open_SeededFuzz_OnlyTypedExceptionsWithinTimeBound()
    {
        var seeds = FuzzSeeds();
        var random = new Random(20240601);
        var failures = new List<string>();
        var outcomes = new int[3];
        var worst = TimeSpan.Zero;
        const int Iterations = 4000;
        for (var n = 0; n < Iterations; n++)
        {
            var seed = seeds[random.Next(seeds.Count)];
            var mutated = Mutate(seed, random, out var mutation);
            var watch = Stopwatch.StartNew();
            try
            {
                var file = DicomFile.Open(mutated);
                outcomes[0]++;
                Exercise(file);
            }
            catch (DicomFormatException)
            {
                outcomes[1]++;
            }
            catch (DicomUnsupportedTransferSyntaxException)
            {
                outcomes[2]++;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failures.Add($"iteration {n} ({mutation}): {ex.GetType().Name}: {ex.Message}");
            }

            watch.Stop();
            worst = watch.Elapsed > worst ? watch.Elapsed : worst;
            if (watch.Elapsed > TimeSpan.FromSeconds(2))
            {
                failures.Add($"iteration {n} ({mutation}) took {watch.Elapsed}");
            }
        }

        output.WriteLine($"{Iterations} mutated files: parsed {outcomes[0]}, DicomFormatException {outcomes[1]}, DicomUnsupportedTransferSyntaxException {outcomes[2]}, slowest {worst.TotalMilliseconds:F1} ms");
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(30)));
        Assert.True(outcomes[0] > 100 && outcomes[1] > 100, $"parsed {outcomes[0]}, format errors {outcomes[1]}, unsupported {outcomes[2]}");
        Assert.True(worst < TimeSpan.FromSeconds(2), $"worst {worst}");
    }

    private static void Exercise(DicomFile file)
    {
        foreach (var element in file.Dataset)
        {
            try
            {
                _ = file.Dataset.GetValues<string>(element.Tag);
            }
            catch (DicomDataException)
            {
            }
        }

        try
        {
            var pixels = DicomPixelData.Create(file.Dataset);
            _ = pixels.GetRescaledValues(0);
        }
        catch (DicomException)
        {
        }
    }

    private static List<byte[]> FuzzSeeds()
    {
        // Seeds built in-process so the fuzz test does not depend on the corpus; the corpus tests cover real encoders.
        var seeds = new List<byte[]>();
        foreach (var uid in new[]
        {
            DicomTransferSyntax.ExplicitVRLittleEndian.Uid, DicomTransferSyntax.ImplicitVRLittleEndian.Uid,
            DicomTransferSyntax.ExplicitVRBigEndian.Uid, DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid,
        })
        {
            seeds.Add(ByteWriter.SampleCtFile(uid));
        }

        seeds.Add(ByteWriter.SampleCtDataset(explicitVR: false, bigEndian: false));
        return seeds;
    }

    private static byte[] Mutate(byte[] seed, Random random, out string mutation)
    {
        var data = (byte[])seed.Clone();
        switch (random.Next(6))
        {
            case 0:
                {
                    var flips = random.Next(1, 9);
                    for (var i = 0; i < flips; i++)
                    {
                        data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
                    }

                    mutation = $"{flips} bit flips";
                    return data;
                }

            case 1:
                {
                    var cut = random.Next(data.Length);
                    mutation = $"truncate at {cut}";
                    return data[..cut];
                }

            case 2:
                {
                    uint[] lengths = [0xFFFFFFFF, 0x7FFFFFFF, 0xFFFFFFF0, 0x80000000, 0x0000FFFF, 1, 3, 0, (uint)random.Next()];
                    var position = random.Next(data.Length - 4);
                    var value = lengths[random.Next(lengths.Length)];
                    if (random.Next(2) == 0)
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(position), value);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(position), (ushort)value);
                    }

                    mutation = $"length 0x{value:X} at {position}";
                    return data;
                }

            case 3:
                {
                    var start = random.Next(data.Length);
                    var count = Math.Min(random.Next(1, 64), data.Length - start);
                    random.NextBytes(data.AsSpan(start, count));
                    mutation = $"random {count} bytes at {start}";
                    return data;
                }

            case 4:
                {
                    var from = random.Next(data.Length);
                    var count = Math.Min(random.Next(1, 512), data.Length - from);
                    var to = random.Next(data.Length);
                    mutation = $"splice {count} bytes from {from} to {to}";
                    return [.. data[..to], .. data.AsSpan(from, count), .. data[to..]];
                }

            default:
                {
                    var depth = random.Next(1, 5000);
                    var nest = new ByteWriter();
                    for (var i = 0; i < depth; i++)
                    {
                        nest.ExplicitUndefinedSequence(0x0008, 0x1140);
                        nest.UndefinedItem();
                    }

                    var at = random.Next(data.Length);
                    mutation = $"nesting {depth} at {at}";
                    return [.. data[..at], .. nest.ToArray(), .. data[at..]];
                }
        }
    }
}

/// <summary>Writes small DICOM byte streams for the hostile-input tests.</summary>
internal sealed class ByteWriter
{
    private readonly List<byte> _bytes = [];

    public bool BigEndian { get; init; }

    public bool Implicit { get; init; }

    public byte[] ToArray() => [.. _bytes];

    public void Raw(byte[] bytes) => _bytes.AddRange(bytes);

    public void U16(ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        }

        _bytes.AddRange(b.ToArray());
    }

    public void U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        }

        _bytes.AddRange(b.ToArray());
    }

    public void Header(ushort group, ushort element, string vr, uint length)
    {
        U16(group);
        U16(element);
        if (Implicit)
        {
            U32(length);
            return;
        }

        _bytes.AddRange(Encoding.ASCII.GetBytes(vr));
        if (DicomVR.Parse(vr).HasLongLength)
        {
            U16(0);
            U32(length);
        }
        else
        {
            U16((ushort)length);
        }
    }

    public void LongHeader(ushort group, ushort element, string vr, uint length) => Header(group, element, vr, length);

    public void Text(ushort group, ushort element, string vr, string value)
    {
        var bytes = Encoding.ASCII.GetBytes(value.Length % 2 == 1 ? value + (vr == "UI" ? "\0" : " ") : value);
        Header(group, element, vr, (uint)bytes.Length);
        Raw(bytes);
    }

    public void U16Value(ushort group, ushort element, ushort value)
    {
        Header(group, element, "US", 2);
        U16(value);
    }

    public void ExplicitUndefinedSequence(ushort group, ushort element) => Header(group, element, "SQ", 0xFFFFFFFF);

    public void UndefinedItem()
    {
        U16(0xFFFE);
        U16(0xE000);
        U32(0xFFFFFFFF);
    }

    public void ItemDelimiter()
    {
        U16(0xFFFE);
        U16(0xE00D);
        U32(0);
    }

    public void SequenceDelimiter()
    {
        U16(0xFFFE);
        U16(0xE0DD);
        U32(0);
    }

    /// <summary>A small CT data set (8×8 signed pixels, a nested undefined-length sequence).</summary>
    public static byte[] SampleCtDataset(bool explicitVR, bool bigEndian)
    {
        var w = new ByteWriter { Implicit = !explicitVR, BigEndian = bigEndian };
        w.Text(0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\AXIAL");
        w.Text(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.2");
        w.Text(0x0008, 0x0060, "CS", "CT");
        w.ExplicitUndefinedSequence(0x0008, 0x1140);
        w.UndefinedItem();
        w.Text(0x0008, 0x1150, "UI", "1.2.840.10008.5.1.4.1.1.2");
        w.Text(0x0008, 0x1155, "UI", "1.2.3.4.5");
        w.ItemDelimiter();
        w.SequenceDelimiter();
        w.Text(0x0010, 0x0020, "LO", "FUZZ");
        w.Text(0x0010, 0x1030, "DS", "61.5");
        w.Text(0x0020, 0x0032, "DS", "-10\\-20\\30.5");
        w.Text(0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0");
        w.U16Value(0x0028, 0x0002, 1);
        w.Text(0x0028, 0x0004, "CS", "MONOCHROME2");
        w.U16Value(0x0028, 0x0010, 8);
        w.U16Value(0x0028, 0x0011, 8);
        w.Text(0x0028, 0x0030, "DS", "0.5\\0.5");
        w.U16Value(0x0028, 0x0100, 16);
        w.U16Value(0x0028, 0x0101, 12);
        w.U16Value(0x0028, 0x0102, 11);
        w.U16Value(0x0028, 0x0103, 1);
        w.Text(0x0028, 0x1052, "DS", "-1024");
        w.Text(0x0028, 0x1053, "DS", "1");
        w.Header(0x7FE0, 0x0010, "OW", 128);
        for (var i = 0; i < 64; i++)
        {
            w.U16((ushort)(i * 37));
        }

        return w.ToArray();
    }

    public static byte[] SampleCtFile(string transferSyntaxUid)
    {
        var syntax = DicomTransferSyntax.Lookup(transferSyntaxUid);
        var body = SampleCtDataset(syntax.IsExplicitVR, syntax.IsBigEndian);
        if (syntax.IsDeflated)
        {
            using var compressed = new MemoryStream();
            using (var deflate = new DeflateStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                deflate.Write(body);
            }

            body = compressed.ToArray();
        }

        return Part10(transferSyntaxUid, body);
    }

    public static byte[] Part10(string transferSyntaxUid, byte[] body)
    {
        var meta = new ByteWriter();
        meta.Text(0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.2");
        meta.Text(0x0002, 0x0010, "UI", transferSyntaxUid);
        var metaBytes = meta.ToArray();
        var head = new ByteWriter();
        head.Raw(new byte[128]);
        head.Raw("DICM"u8.ToArray());
        head.Header(0x0002, 0x0000, "UL", 4);
        head.U32((uint)metaBytes.Length);
        head.Raw(metaBytes);
        head.Raw(body);
        return head.ToArray();
    }
}
