using System.Diagnostics;

namespace HomaBone.Contracts.Tests;

/// <summary>buf (pinned in package.json, run from the project's node_modules) guards the contracts.</summary>
public sealed class BufTests
{
    private static readonly string Root = FindRoot();

    [Fact]
    public async Task BufLint_Protos_IsClean()
    {
        var (code, output) = await RunBufAsync(Root, "lint");
        Assert.True(code == 0, "buf lint:\n" + output);
    }

    [Fact]
    public async Task BufLint_UncommentedField_IsReported()
    {
        var copy = CopyWorkspace();
        var file = Path.Combine(copy, "protos", "homabone", "v1", "participant.proto");
        var text = await File.ReadAllTextAsync(file);
        text = text.Replace("  // Height, cm (to 0.1).\n", string.Empty, StringComparison.Ordinal);
        await File.WriteAllTextAsync(file, text);
        var (code, output) = await RunBufAsync(copy, "lint");
        Assert.NotEqual(0, code);
        Assert.Contains("height_cm", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BufBreaking_RenamedField_Fails()
    {
        var baseline = CopyWorkspace();
        var changed = CopyWorkspace();
        var file = Path.Combine(changed, "protos", "homabone", "v1", "participant.proto");
        var text = await File.ReadAllTextAsync(file);
        Assert.Contains("optional double age_years = 2;", text, StringComparison.Ordinal);
        await File.WriteAllTextAsync(file, text.Replace("optional double age_years = 2;", "optional double age = 2;", StringComparison.Ordinal));
        var (code, output) = await RunBufAsync(changed, "breaking", "--against", baseline);
        Assert.NotEqual(0, code);
        Assert.Contains("age_years", output, StringComparison.Ordinal);

        var (sameCode, sameOutput) = await RunBufAsync(baseline, "breaking", "--against", CopyWorkspace());
        Assert.True(sameCode == 0, "unchanged protos must not break:\n" + sameOutput);
    }

    private static string CopyWorkspace()
    {
        var target = Directory.CreateTempSubdirectory("homabone-buf-").FullName;
        File.Copy(Path.Combine(Root, "buf.yaml"), Path.Combine(target, "buf.yaml"));
        foreach (var source in Directory.EnumerateFiles(Path.Combine(Root, "protos"), "*.proto", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(Root, source));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(source, destination);
        }

        return target;
    }

    private static async Task<(int Code, string Output)> RunBufAsync(string workingDirectory, params string[] args)
    {
        var buf = Path.Combine(Root, "node_modules", ".bin", "buf");
        Assert.True(File.Exists(buf), "buf is missing: run 'npm ci' (the test command does)");
        var start = new ProcessStartInfo(buf) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HomaBone.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("HomaBone.sln not found");
    }
}
