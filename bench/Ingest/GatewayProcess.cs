using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace HomaBone.Ingest.Bench;

/// <summary>The real co-hosted service as a child process on free loopback ports (as the end-to-end tests start it).</summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;

    private GatewayProcess(Process process, int grpcPort, int httpPort)
    {
        _process = process;
        GrpcAddress = "http://127.0.0.1:" + grpcPort.ToString(CultureInfo.InvariantCulture);
        HttpAddress = "http://127.0.0.1:" + httpPort.ToString(CultureInfo.InvariantCulture);
    }

    public string GrpcAddress { get; }

    /// <summary>The plain HTTP address (health, metrics).</summary>
    public string HttpAddress { get; }

    /// <summary>The service process id.</summary>
    public int ProcessId => _process.Id;

    public static async Task<GatewayProcess> StartAsync(string? gatewayDll, string dataDirectory)
    {
        var root = RepositoryRoot();
        var dll = gatewayDll ?? FindGatewayDll(root);
        var grpcPort = FreePort();
        var httpPort = FreePort();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--contentRoot");
        start.ArgumentList.Add(Path.Combine(root, "src", "Gateway"));
        foreach (var (key, value) in new[]
        {
            ("HomaBone:DataDirectory", dataDirectory),
            ("HomaBone:GrpcPort", grpcPort.ToString(CultureInfo.InvariantCulture)),
            ("HomaBone:HttpPort", httpPort.ToString(CultureInfo.InvariantCulture)),
            ("HomaBone:SiloPort", FreePort().ToString(CultureInfo.InvariantCulture)),
            ("HomaBone:OrleansGatewayPort", FreePort().ToString(CultureInfo.InvariantCulture)),
            ("Logging:LogLevel:Default", "Warning"),
        })
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the gateway");
        process.OutputDataReceived += (_, e) => Echo(e.Data);
        process.ErrorDataReceived += (_, e) => Echo(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayProcess(process, grpcPort, httpPort);
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:" + httpPort.ToString(CultureInfo.InvariantCulture)) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("the gateway exited during start-up");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return gateway;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        await gateway.DisposeAsync();
        throw new TimeoutException("the gateway did not become ready");
    }

    /// <summary>SIGTERM and wait, so the store's file is closed cleanly before it is read.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await term!.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _process.WaitForExitAsync(timeout.Token);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Echo(string? line)
    {
        if (line is not null && (line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("crit", StringComparison.OrdinalIgnoreCase)))
        {
            Console.Error.WriteLine("gateway: " + line);
        }
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HomaBone.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("HomaBone.sln not found above the bench output folder");
    }

    private static string FindGatewayDll(string root)
    {
        var configuration = typeof(GatewayProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        foreach (var candidate in new[] { configuration, "Release", "Debug" })
        {
            var path = Path.Combine(root, "src", "Gateway", "bin", candidate, "net10.0", "HomaBone.Gateway.dll");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("build the gateway first (dotnet build -c Release src/Gateway) or pass --gateway");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
