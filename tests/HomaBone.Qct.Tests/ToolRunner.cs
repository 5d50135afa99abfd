using System.Diagnostics;

namespace HomaBone.Qct.Tests;

/// <summary>Runs the oracle scripts (Debian python3 with pydicom/numpy, DCMTK, GDCM). A missing tool fails the test.</summary>
internal static class ToolRunner
{
    public const string Python = "/usr/bin/python3";

    public static string ScriptPath(string name) => Path.Combine(AppContext.BaseDirectory, "Scripts", name);

    public static string NewTempDirectory(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void RunPython(string script, params string[] args)
    {
        var info = new ProcessStartInfo(Python)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ScriptPath(script));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {Python}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish within 3 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{script} failed with exit code {process.ExitCode} (are python3-pydicom, python3-numpy, dcmtk and libgdcm-tools installed?):\n{stderr.Result}\n{stdout.Result}");
        }
    }
}
