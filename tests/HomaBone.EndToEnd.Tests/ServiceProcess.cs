using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Grpc.Net.Client;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// The real service as a separate OS process (the README's run command, on random loopback ports and a
/// temporary data directory), so tests see real Kestrel HTTP/2, real crashes (kill -9) and restarts.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;
    private int _attemptStart;

    private readonly string _project;

    public ServiceProcess(string? dataDirectory = null, string project = "Gateway")
    {
        _project = project;
        DataDirectory = dataDirectory ?? Directory.CreateTempSubdirectory("homabone-e2e-").FullName;
        PickPorts();
    }

    public string DataDirectory { get; }

    /// <summary>The ports: picked free here and bound by the child, so another process may take one in between;
    /// <see cref="StartAsync"/> then picks new ones and starts again (read them after it).</summary>
    public int GrpcPort { get; private set; }

    public int HttpPort { get; private set; }

    public int SiloPort { get; private set; }

    public int OrleansGatewayPort { get; private set; }

    /// <summary>How many starts lost a port to another process and were repeated on new ports.</summary>
    public int BindRetries { get; private set; }

    public string GrpcAddress => $"{Scheme}://127.0.0.1:{GrpcPort}";

    public string HttpAddress => $"{Scheme}://127.0.0.1:{HttpPort}";

    /// <summary>"https" when the service is started with TLS (set before <see cref="StartAsync"/>).</summary>
    public string Scheme { get; init; } = "http";

    /// <summary>The CA that issued the server certificate (TLS runs); the only root the test clients trust.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TrustedCa { get; init; }

    /// <summary>A client certificate the readiness probe and <see cref="CreateChannel()"/> present (mutual TLS runs).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Extra environment variables of the process.</summary>
    public Dictionary<string, string> Environment { get; } = [];

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HomaBone.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("HomaBone.sln not found above the test output folder");
        }
    }

    public static string ProjectDll(string project)
    {
        var configuration = typeof(ServiceProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var path = Path.Combine(RepositoryRoot, "src", project, "bin", configuration, "net10.0", $"HomaBone.{project}.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"build src/{project} first", path);
    }

    public async Task StartAsync(params string[] extraArgs)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartOnceAsync(extraArgs);
                return;
            }
            catch (InvalidOperationException) when (attempt < 4 && IsBindFailure(Output[_attemptStart..]))
            {
                // Lost the loopback port race (the port was free when picked): new ports, new process.
                _process?.Dispose();
                _process = null;
                lock (_output)
                {
                    _output.AppendLine($"--- start {attempt} could not bind its ports; starting again on new ones ---");
                }

                BindRetries++;
                PickPorts();
            }
        }
    }

    private static bool IsBindFailure(string output) =>
        output.Contains("address already in use", StringComparison.OrdinalIgnoreCase)
        || output.Contains("AddressInUse", StringComparison.Ordinal)
        || output.Contains("Failed to bind to address", StringComparison.Ordinal);

    private void PickPorts()
    {
        GrpcPort = FreePort();
        HttpPort = FreePort();
        SiloPort = FreePort();
        OrleansGatewayPort = FreePort();
    }

    private async Task StartOnceAsync(string[] extraArgs)
    {
        lock (_output)
        {
            _attemptStart = _output.Length;
        }

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ProjectDll(_project));
        start.ArgumentList.Add("--contentRoot");
        start.ArgumentList.Add(Path.Combine(RepositoryRoot, "src", _project));
        foreach (var (key, value) in new[]
        {
            ("HomaBone:DataDirectory", DataDirectory),
            ("HomaBone:GrpcPort", GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("HomaBone:HttpPort", HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("HomaBone:SiloPort", SiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("HomaBone:OrleansGatewayPort", OrleansGatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        })
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        foreach (var arg in extraArgs)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in Environment)
        {
            start.Environment[key] = value;
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + _project);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitReadyAsync(TimeSpan.FromSeconds(60));
    }

    public GrpcChannel CreateChannel() => CreateChannel(ClientCertificate);

    /// <summary>
    /// A channel presenting <paramref name="clientCertificate"/> (or none), trusting only <see cref="TrustedCa"/>, and
    /// retrying under the published retry policy (UNAVAILABLE only) unless <paramref name="retry"/> is false.
    /// </summary>
    public GrpcChannel CreateChannel(System.Security.Cryptography.X509Certificates.X509Certificate2? clientCertificate, bool retry = true) =>
        GrpcChannel.ForAddress(GrpcAddress, new GrpcChannelOptions
        {
            HttpHandler = Scheme == "http" ? null : CreateHandler(clientCertificate),
            ServiceConfig = retry ? PublishedRetryPolicy.Load() : null,
        });

    /// <summary>An HTTP handler that trusts only <see cref="TrustedCa"/> and presents <paramref name="clientCertificate"/>.</summary>
    public HttpMessageHandler CreateHandler(System.Security.Cryptography.X509Certificates.X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler();
        if (TrustedCa is { } ca)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is null)
                {
                    return false;
                }

                using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2 ?? System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
            };
        }

        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        return handler;
    }

    /// <summary>SIGKILL: no shutdown code runs, like a crash.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>SIGTERM and wait for a clean exit.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term!.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(timeout.Token);
        }
    }

    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; false if it is still running.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (_process is null)
        {
            return true;
        }

        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Sends a signal (for example STOP or CONT) to the process.</summary>
    public void Signal(string signal)
    {
        if (_process is { HasExited: false })
        {
            using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill!.WaitForExit();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        _process = null;

        await Task.CompletedTask;
    }

    private async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient(CreateHandler(ClientCertificate)) { BaseAddress = new Uri(HttpAddress) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited)
            {
                _process.WaitForExit(); // the rest of its output
                throw new InvalidOperationException("the gateway exited during start-up:\n" + Output);
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("the gateway did not become ready:\n" + Output);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
