using System.Text.Json;

namespace HomaBone.Qct.Tests.Dicom;

/// <summary>The reader corpus: written by pydicom, re-encoded by dcmconv, compressed by gdcmconv, read back by pydicom.</summary>
public sealed class CorpusFixture : IDisposable
{
    public CorpusFixture()
    {
        Directory = ToolRunner.NewTempDirectory("homabone-dicom-corpus");
        ToolRunner.RunPython("make_corpus.py", Directory);
        using var stream = File.OpenRead(Path.Combine(Directory, "manifest.json"));
        Manifest = JsonDocument.Parse(stream);
    }

    public string Directory { get; }

    public JsonDocument Manifest { get; }

    public IEnumerable<JsonElement> Files => Manifest.RootElement.GetProperty("files").EnumerateArray();

    public IEnumerable<JsonElement> CompressedFiles => Manifest.RootElement.GetProperty("compressed").EnumerateArray();

    public string PathOf(JsonElement entry) => Path.Combine(Directory, entry.GetProperty("file").GetString()!);

    public void Dispose()
    {
        Manifest.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class CorpusGroup : ICollectionFixture<CorpusFixture>
{
    public const string Name = "DICOM corpus";
}
