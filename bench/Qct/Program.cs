using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Net.Client;
using HomaBone.Contracts.V1;

// A 512x512x101 CT series of the digital phantom (1-mm slices, written by pydicom) and its 512x512x101 label series
// analysed end to end through gRPC (QctService.AnalyzeSeries, one chunk per file of ~525 KB under the 1-MiB chunk limit) against the real service process, and
// the same files read by pydicom + numpy in the same run.
// Usage: dotnet run -c Release --project bench/Qct [-- runs [pixel-mm] [--warmups N] [--service-env NAME=VALUE]...
// [--series DIR] [--dump FILE]]; pixel-mm "0.8,0.75" (default: a clinical field of view, 410 x 384 mm) or e.g. "0.25,0.25" (the
// phantom fills most of the matrix: 9 times the bone voxels). --service-env sets a variable for the service process
// only (e.g. DOTNET_TieredCompilation=0); --series reuses (or writes once into) a folder instead of a fresh one;
// --dump writes every measure of the last response (round-trip precision) to compare two builds; --service runs another
// HomaBone.Gateway.dll (e.g. a ReadyToRun publish) instead of the build output.
const int ChunkBytes = 1 << 20;
var positional = new List<string>();
var serviceEnv = new List<(string Name, string Value)>();
var warmups = 1;
string? seriesFolder = null;
string? dumpPath = null;
string? serviceDll = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--warmups":
            warmups = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--service-env":
            var pair = args[++i].Split('=', 2);
            serviceEnv.Add((pair[0], pair[1]));
            break;
        case "--series":
            seriesFolder = args[++i];
            break;
        case "--dump":
            dumpPath = args[++i];
            break;
        case "--service":
            serviceDll = Path.GetFullPath(args[++i]);
            break;
        default:
            positional.Add(args[i]);
            break;
    }
}

var runs = positional.Count > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 3;
var pixelMm = positional.Count > 1 ? positional[1] : "0.8,0.75";
var root = FindRoot();
var folder = seriesFolder ?? Directory.CreateTempSubdirectory("homabone-qct-bench-").FullName;
if (!Directory.Exists(Path.Combine(folder, "ct")))
{
    Run("/usr/bin/python3", Path.Combine(root, "tests", "HomaBone.Qct.Tests", "Scripts", "make_phantom.py"), folder, "1", "8", "--matrix", "512", "--pixel-mm", pixelMm);
}

var files = Directory.GetFiles(Path.Combine(folder, "ct"), "*.dcm").Select(p => (p, SeriesFileKind.Ct))
    .Concat(Directory.GetFiles(Path.Combine(folder, "labels"), "*.dcm").Select(p => (p, SeriesFileKind.Label))).ToList();
var bytes = files.Sum(f => new FileInfo(f.p).Length);

var grpcPort = FreePort();
var data = Directory.CreateTempSubdirectory("homabone-qct-bench-data-").FullName;
var gateway = serviceDll ?? Path.Combine(root, "src", "Gateway", "bin", "Release", "net10.0", "HomaBone.Gateway.dll");
var serviceStart = new ProcessStartInfo("dotnet", [gateway, "--contentRoot", Path.Combine(root, "src", "Gateway"), $"--HomaBone:DataDirectory={data}",
    $"--HomaBone:GrpcPort={grpcPort}", $"--HomaBone:HttpPort={FreePort()}", $"--HomaBone:SiloPort={FreePort()}", $"--HomaBone:OrleansGatewayPort={FreePort()}", "--Logging:LogLevel:Default=Warning"])
{ RedirectStandardOutput = true, RedirectStandardError = true };
foreach (var (name, value) in serviceEnv)
{
    serviceStart.Environment[name] = value;
}

var sinceStart = Stopwatch.StartNew();
using var service = Process.Start(serviceStart)!;
var firstResponse = 0.0;
service.OutputDataReceived += (_, _) => { };
service.ErrorDataReceived += (_, _) => { };
service.BeginOutputReadLine();
service.BeginErrorReadLine();
try
{
    using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}", new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
    var client = new QctService.QctServiceClient(channel);
    var times = new List<double>();
    var uploads = new List<double>();
    var serviceCpu = new List<double>();
    var clientCpu = new List<double>();
    var serviceFaults = new List<double>();
    AnalyzeSeriesResponse? lastResponse = null;
    var readBuffer = Array.Empty<byte>();
    for (var run = 0; run < runs + warmups; run++)
    {
        var serviceCpuBefore = ServiceCpuSeconds(service);
        var serviceFaultsBefore = MinorFaults(service);
        var clientCpuBefore = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var sw = Stopwatch.StartNew();
        var uploaded = 0.0;
        AnalyzeSeriesResponse? response = null;
        for (var attempt = 0; response is null; attempt++)
        {
            try
            {
                using var call = client.AnalyzeSeries();
                await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Header = new AnalyzeSeriesHeader() });
                foreach (var (path, kind) in files)
                {
                    // Each file is read into one buffer reused for every file (a write has serialised the message when it
                    // completes), and each chunk wraps a part of it without a copy; at most 1 MiB per chunk (the protocol's limit).
                    using var handle = File.OpenHandle(path);
                    var length = (int)RandomAccess.GetLength(handle);
                    if (readBuffer.Length < length)
                    {
                        readBuffer = GC.AllocateUninitializedArray<byte>(length);
                    }

                    for (var read = 0; read < length;)
                    {
                        var n = RandomAccess.Read(handle, readBuffer.AsSpan(read, length - read), read);
                        read += n > 0 ? n : throw new EndOfStreamException(path);
                    }

                    for (var offset = 0; offset < length; offset += ChunkBytes)
                    {
                        var bytesOfChunk = UnsafeByteOperations.UnsafeWrap(readBuffer.AsMemory(offset, Math.Min(ChunkBytes, length - offset)));
                        await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Chunk = new FileChunk { FileId = kind + "/" + Path.GetFileName(path), Kind = kind, Data = bytesOfChunk } });
                    }
                }

                await call.RequestStream.CompleteAsync();
                uploaded = sw.Elapsed.TotalSeconds; // every byte sent and the stream closed: the upload alone
                response = await call.ResponseAsync;
            }
            catch (Grpc.Core.RpcException) when (attempt < 120 && run == 0)
            {
                await Task.Delay(500); // the service is still starting
                sw.Restart();
            }
        }

        lastResponse = response;
        if (run == 0)
        {
            firstResponse = sinceStart.Elapsed.TotalSeconds; // process start to the first answer: startup and a cold request
        }

        if (run >= warmups)
        {
            times.Add(sw.Elapsed.TotalSeconds); // the first runs warm up the service (JIT)
            uploads.Add(uploaded);
            // CPU time used by the request (all threads), less sensitive than wall time to the other work on the machine.
            serviceCpu.Add(ServiceCpuSeconds(service) - serviceCpuBefore);
            clientCpu.Add(Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - clientCpuBefore);
            serviceFaults.Add(MinorFaults(service) - serviceFaultsBefore);
        }
    }

    if (dumpPath is not null)
    {
        // Every measure of the last response, to compare two builds value for value (round-trip precision).
        await File.WriteAllLinesAsync(dumpPath, lastResponse!.Measures.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Region}.{m.Name}={m.Value:R} {m.Unit}"))
            .Append(string.Create(CultureInfo.InvariantCulture, $"calibration={lastResponse.Calibration.Slope:R} {lastResponse.Calibration.Intercept:R} {lastResponse.Calibration.RSquared:R}"))
            .Concat(lastResponse.Warnings));
    }

    var inOrder = string.Join(' ', times.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)));
    var uploadsInOrder = string.Join(' ', uploads.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)));
    times.Sort();
    uploads.Sort();
    serviceCpu.Sort();
    clientCpu.Sort();
    serviceFaults.Sort();
    var ours = times[times.Count / 2];
    var upload = uploads[uploads.Count / 2];
    var reference = Run("/usr/bin/python3", Path.Combine(AppContext.BaseDirectory, "read_pydicom.py"), folder);
    var pydicom = double.Parse(reference.Split('\n').First(l => l.StartsWith("pydicom_seconds=", StringComparison.Ordinal))["pydicom_seconds=".Length..].Split(' ')[0], CultureInfo.InvariantCulture);
    Console.WriteLine("files,megabytes,grpc_end_to_end_s,grpc_mb_per_s,upload_s,upload_mb_per_s,pydicom_numpy_read_s,ratio_pydicom_over_ours,service_cpu_s,client_cpu_s,service_page_faults,first_response_s,runs_s,uploads_s");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{files.Count},{bytes / 1e6:F1},{ours:F2},{bytes / 1e6 / ours:F1},{upload:F2},{bytes / 1e6 / upload:F1},{pydicom:F2},{pydicom / ours:F2},{serviceCpu[serviceCpu.Count / 2]:F2},{clientCpu[clientCpu.Count / 2]:F2},{serviceFaults[serviceFaults.Count / 2]:F0},{firstResponse:F2},{inOrder},{uploadsInOrder}"));
}
finally
{
    service.Kill(entireProcessTree: true);
}

static string Run(string file, params string[] arguments)
{
    using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
    var output = process.StandardOutput.ReadToEnd();
    var error = process.StandardError.ReadToEnd();
    process.WaitForExit();
    return process.ExitCode == 0 ? output : throw new InvalidOperationException(file + " failed: " + error);
}

static double ServiceCpuSeconds(Process service)
{
    service.Refresh();
    return service.TotalProcessorTime.TotalSeconds;
}

// Minor page faults of the service so far (Linux /proc; 0 elsewhere): fresh memory touched for the first time.
static double MinorFaults(Process service)
{
    var stat = $"/proc/{service.Id}/stat";
    if (!File.Exists(stat))
    {
        return 0;
    }

    var text = File.ReadAllText(stat);
    var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
    return double.Parse(fields[7], CultureInfo.InvariantCulture); // field 10 of stat: minflt
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HomaBone.sln")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? throw new InvalidOperationException("HomaBone.sln not found");
}
