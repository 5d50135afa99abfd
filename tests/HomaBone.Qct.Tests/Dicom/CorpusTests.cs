using System.Globalization;
using System.Text.Json;
using HomaBone.Qct.Dicom;
using Xunit.Abstractions;

namespace HomaBone.Qct.Tests.Dicom;

/// <summary>
/// Oracle: pydicom's reading of the very same files (Scripts/make_corpus.py), which were encoded by DCMTK's dcmconv
/// into every native transfer syntax and compressed by GDCM's gdcmconv.
/// </summary>
[Collection(CorpusGroup.Name)]
public sealed class CorpusTests(CorpusFixture corpus, ITestOutputHelper output)
{
    // (0028,0120) is "US or SS" in PS3.6: pydicom resolves it from Pixel Representation; it is checked through DicomPixelData.
    private static readonly HashSet<string> SkippedKeys = ["00280120"];

    [Fact]
    public void Corpus_CoversEveryNativeSyntaxAndBareDataSets()
    {
        var syntaxes = corpus.Files.Select(f => DicomFile.Open(corpus.PathOf(f)).TransferSyntax.Uid).ToHashSet();
        Assert.Contains(DicomTransferSyntax.ImplicitVRLittleEndian.Uid, syntaxes);
        Assert.Contains(DicomTransferSyntax.ExplicitVRLittleEndian.Uid, syntaxes);
        Assert.Contains(DicomTransferSyntax.ExplicitVRBigEndian.Uid, syntaxes);
        Assert.Contains(DicomTransferSyntax.DeflatedExplicitVRLittleEndian.Uid, syntaxes);
        Assert.True(corpus.Files.Count() >= 128);
        Assert.Contains(corpus.Files, f => !DicomFile.Open(corpus.PathOf(f)).HasPreamble);
    }

    [Fact]
    public void Open_EveryUncompressedFile_TagsEqualPydicom() => TagsEqualPydicom(p => DicomFile.Open(p));

    /// <summary>
    /// A file at the start of a larger buffer (a reused upload buffer: here followed by 4 KiB of another file's bytes
    /// and noise) reads exactly as the file alone: the bytes beyond its length are never read.
    /// </summary>
    [Fact]
    public void Open_AFileAtTheStartOfALargerBuffer_TagsAndPixelsEqualPydicom()
    {
        var random = new Random(6);
        var other = File.ReadAllBytes(corpus.PathOf(corpus.Files.First()));
        DicomFile OpenInBuffer(string path)
        {
            var bytes = File.ReadAllBytes(path);
            var buffer = new byte[bytes.Length + 4096];
            bytes.CopyTo(buffer, 0);
            random.NextBytes(buffer.AsSpan(bytes.Length));
            other.AsSpan(0, Math.Min(other.Length, 2048)).CopyTo(buffer.AsSpan(bytes.Length));
            return DicomFile.Open(buffer, bytes.Length);
        }

        TagsEqualPydicom(OpenInBuffer);
        foreach (var entry in corpus.Files)
        {
            var stored = DicomPixelData.Create(OpenInBuffer(corpus.PathOf(entry)).Dataset).GetStoredValues(0);
            Assert.Equal(ReadArray<int>(corpus.PathOf(entry) + ".stored"), stored);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => DicomFile.Open(other, other.Length + 1));
    }

    private void TagsEqualPydicom(Func<string, DicomFile> open)
    {
        var failures = new List<string>();
        var compared = 0;
        foreach (var entry in corpus.Files)
        {
            var name = entry.GetProperty("file").GetString();
            var file = open(corpus.PathOf(entry));
            var ts = entry.GetProperty("ts").GetString();
            if (!string.IsNullOrEmpty(ts) && ts != file.TransferSyntax.Uid)
            {
                failures.Add($"{name}: transfer syntax {file.TransferSyntax.Uid}, pydicom {ts}");
            }

            foreach (var tag in entry.GetProperty("tags").EnumerateObject())
            {
                if (SkippedKeys.Contains(tag.Name))
                {
                    continue;
                }

                compared++;
                var problem = Compare(file.Dataset, tag.Name, tag.Value);
                if (problem is not null)
                {
                    failures.Add($"{name} {tag.Name}: {problem}");
                }
            }
        }

        output.WriteLine($"{corpus.Files.Count()} files, {compared} values compared with pydicom {corpus.Manifest.RootElement.GetProperty("pydicom").GetString()}");
        Assert.True(compared > 5000, $"only {compared} values compared");
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(40)));
    }

    [Fact]
    public void PixelData_EveryUncompressedFile_StoredAndRescaledEqualPydicom()
    {
        var failures = new List<string>();
        foreach (var entry in corpus.Files)
        {
            var path = corpus.PathOf(entry);
            var name = entry.GetProperty("file").GetString();
            var pixels = DicomPixelData.Create(DicomFile.Open(path).Dataset);
            var expectedStored = ReadArray<int>(path + ".stored");
            var expectedRescaled = ReadArray<double>(path + ".rescaled");
            var stored = pixels.GetStoredValues(0);
            var rescaled = pixels.GetRescaledValues(0, excludePadding: false);
            Assert.Equal(expectedStored.Length, stored.Length);
            for (var i = 0; i < stored.Length; i++)
            {
                if (stored[i] != expectedStored[i] || Math.Abs(rescaled[i] - expectedRescaled[i]) > 1e-3)
                {
                    failures.Add($"{name} pixel {i}: stored {stored[i]} vs {expectedStored[i]}, rescaled {rescaled[i]} vs {expectedRescaled[i]}");
                    break;
                }
            }

            var padding = entry.GetProperty("padding");
            if (padding.ValueKind == JsonValueKind.Number)
            {
                var expectedPad = padding.GetInt32();
                if (pixels.PaddingValue != expectedPad)
                {
                    failures.Add($"{name}: padding {pixels.PaddingValue} vs pydicom {expectedPad}");
                }

                var hu = pixels.GetRescaledValues(0);
                var padCount = expectedStored.Count(v => v == expectedPad);
                if (hu.Count(float.IsNaN) != padCount)
                {
                    failures.Add($"{name}: {hu.Count(float.IsNaN)} padding pixels excluded, expected {padCount}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(40)));
    }

    [Fact]
    public void Open_CompressedFiles_RefusedNamingSyntaxAndRemedy()
    {
        var count = 0;
        foreach (var entry in corpus.CompressedFiles)
        {
            count++;
            var ex = Assert.Throws<DicomUnsupportedTransferSyntaxException>(() => DicomFile.Open(corpus.PathOf(entry)));
            Assert.Contains(entry.GetProperty("ts").GetString()!, ex.Message, StringComparison.Ordinal);
            Assert.Contains(entry.GetProperty("name").GetString()!, ex.Message, StringComparison.Ordinal);
            Assert.Contains("gdcmconv --raw", ex.Message, StringComparison.Ordinal);
        }

        Assert.True(count >= 16);
    }

    private static T[] ReadArray<T>(string path)
        where T : struct
    {
        var bytes = File.ReadAllBytes(path);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }

    private static string? Compare(DicomDataset root, string key, JsonElement expected)
    {
        var parts = key.Split('/');
        var dataset = root;
        for (var i = 0; i < parts.Length - 1; i += 2)
        {
            var seqTag = DicomTag.Parse(parts[i]);
            if (!dataset.TryGetSequence(seqTag, out var sequence))
            {
                return $"sequence {seqTag} missing";
            }

            var index = int.Parse(parts[i + 1], CultureInfo.InvariantCulture);
            if (index >= sequence.Items.Count)
            {
                return $"sequence {seqTag} has {sequence.Items.Count} items";
            }

            dataset = sequence.Items[index];
        }

        var tag = DicomTag.Parse(parts[^1]);
        if (!dataset.Contains(tag))
        {
            return "missing";
        }

        var kind = expected.GetProperty("kind").GetString();
        switch (kind)
        {
            case "seq":
                var count = dataset.GetSequence(tag).Items.Count;
                return count == expected.GetProperty("count").GetInt32() ? null : $"{count} items";
            case "num":
                {
                    var actual = dataset.GetValues<double>(tag);
                    var want = expected.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                    if (actual.Length != want.Length)
                    {
                        return $"{actual.Length} values, pydicom {want.Length}";
                    }

                    for (var i = 0; i < want.Length; i++)
                    {
                        if (Math.Abs(actual[i] - want[i]) > 1e-12 * Math.Max(1, Math.Abs(want[i])))
                        {
                            return $"value {i}: {actual[i]} vs {want[i]}";
                        }
                    }

                    return null;
                }

            case "tag":
                {
                    var actual = dataset.GetValues<DicomTag>(tag).Select(t => $"{t.Group:X4}{t.Element:X4}");
                    var want = expected.GetProperty("values").EnumerateArray().Select(v => v.GetString());
                    return actual.SequenceEqual(want) ? null : $"{string.Join(',', actual)} vs {string.Join(',', want)}";
                }

            default:
                {
                    var actual = dataset.GetValues<string>(tag);
                    var want = expected.GetProperty("values").EnumerateArray().Select(v => v.GetString()).ToArray();
                    return actual.SequenceEqual(want) ? null : $"'{string.Join('|', actual)}' vs '{string.Join('|', want)}'";
                }
        }
    }
}
