using System.Text.Json;

namespace HomaBone.Qct.Tests.Phantom;

/// <summary>The digital phantom of docs/qct.md at 3-mm (with negative variants) and 1-mm slices, written by pydicom.</summary>
public sealed class PhantomFixture : IDisposable
{
    public PhantomFixture()
    {
        Root = ToolRunner.NewTempDirectory("homabone-phantom");
        ThreeMm = Path.Combine(Root, "3mm");
        OneMm = Path.Combine(Root, "1mm");
        ToolRunner.RunPython("make_phantom.py", ThreeMm, "3", "7", "--variants");
        ToolRunner.RunPython("make_phantom.py", OneMm, "1", "8");
    }

    public string Root { get; }

    public string ThreeMm { get; }

    public string OneMm { get; }

    public string Dir(double sliceMm) => sliceMm > 2 ? ThreeMm : OneMm;

    public static string[] Files(string folder) => [.. Directory.GetFiles(folder, "*.dcm").Order(StringComparer.Ordinal)];

    public static JsonDocument Truth(string dir)
    {
        using var stream = File.OpenRead(Path.Combine(dir, "truth.json"));
        return JsonDocument.Parse(stream);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PhantomGroup : ICollectionFixture<PhantomFixture>
{
    public const string Name = "Digital phantom";
}
