using System.Diagnostics;
using System.Text.Json;

namespace HomaBone.EndToEnd.Tests;

/// <summary>An independent client (Python grpcio from Debian, stubs generated from protos/) against the running process.</summary>
public sealed class IndependentClientTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task PythonQuickstart_AgainstRunningService_CreatesCohortAndReadsParticipantBack()
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), "Debian's /usr/bin/python3 is required (the test command installs python3-grpcio and python3-grpc-tools)");
        var script = Path.Combine(ServiceProcess.RepositoryRoot, "examples", "python", "quickstart.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add($"127.0.0.1:{fixture.Service.GrpcPort}");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, "quickstart.py failed: " + await stderr);
        using var json = JsonDocument.Parse((await stdout).Trim().Split('\n')[^1]);
        var root = json.RootElement;
        Assert.StartsWith("cohorts/quickstart-", root.GetProperty("cohort").GetString(), StringComparison.Ordinal);
        Assert.Equal(4, root.GetProperty("groups").GetInt32());
        Assert.Equal(1, root.GetProperty("revision").GetInt64());
        Assert.True(root.GetProperty("etag_matches").GetBoolean());
        Assert.Equal(57, root.GetProperty("age_years").GetDouble());
        Assert.Equal("INVALID_ARGUMENT", root.GetProperty("bad_record_status").GetString());
    }
}
