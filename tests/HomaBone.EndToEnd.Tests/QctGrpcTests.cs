using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Qct;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// QctService.AnalyzeSeries through real gRPC: the digital phantom (written by pydicom, tests/HomaBone.Qct.Tests/
/// Scripts/make_phantom.py) uploaded in chunks gives exactly the library's measures, attaches them to a
/// participant as a new revision, and bad uploads get clear errors.
/// </summary>
public sealed class QctGrpcTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private readonly QctService.QctServiceClient _qct = new(fixture.Service.CreateChannel());

    /// <summary>QctService is bound by the gateway's own binding (its request reader): reflection still describes it.</summary>
    [Fact]
    public async Task Reflection_ListsQctService_AndResolvesItsProtoFile()
    {
        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(fixture.Service.CreateChannel());
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = string.Empty });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("homabone.v1.QctService", services);
        Assert.Contains("homabone.v1.ParticipantService", services);

        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { FileContainingSymbol = "homabone.v1.QctService" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
            .Select(b => Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(b)).ToList();
        var qct = Assert.Single(files, f => f.Name == "homabone/v1/qct.proto");
        Assert.Contains(qct.Service.Single(s => s.Name == "QctService").Method, m => m.Name == "AnalyzeSeries" && m.ClientStreaming);
        await call.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task AnalyzeSeries_PhantomInChunks_EqualsLibraryAndAttachesToParticipant()
    {
        var folder = MakePhantom();
        var ct = Directory.GetFiles(Path.Combine(folder, "ct"), "*.dcm").Order(StringComparer.Ordinal).ToArray();
        var labels = Directory.GetFiles(Path.Combine(folder, "labels"), "*.dcm").Order(StringComparer.Ordinal).ToArray();
        var expected = QctAnalyzer.AnalyzeFiles(ct, labels).ToMeasures().Where(m => m.Value is { } v && double.IsFinite(v)).ToList();

        var cohorts = new CohortService.CohortServiceClient(fixture.Service.CreateChannel());
        var participants = new ParticipantService.ParticipantServiceClient(fixture.Service.CreateChannel());
        var cohortId = ServiceFixture.NewId("qct");
        await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = cohortId });
        var name = $"cohorts/{cohortId}/participants/p1";
        await participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = GrpcApiTests.SampleRecord(60) } });

        using var call = _qct.AnalyzeSeries();
        await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Header = new AnalyzeSeriesHeader { Participant = name, RequestId = "qct-1" } });
        foreach (var (path, kind) in ct.Select(p => (p, SeriesFileKind.Ct)).Concat(labels.Select(p => (p, SeriesFileKind.Label))).Reverse())
        {
            var bytes = await File.ReadAllBytesAsync(path);
            for (var offset = 0; offset < bytes.Length; offset += 16 * 1024)
            {
                var chunk = new FileChunk { FileId = Path.GetFileName(Path.GetDirectoryName(path)) + "/" + Path.GetFileName(path), Kind = kind, Data = ByteString.CopyFrom(bytes, offset, Math.Min(16 * 1024, bytes.Length - offset)) };
                await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Chunk = chunk });
            }
        }

        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;

        Assert.Equal(expected.Count, response.Measures.Count);
        foreach (var m in expected)
        {
            var dot = m.Key.IndexOf('.', StringComparison.Ordinal);
            var got = response.Measures.Single(r => r.Region == m.Key[..dot] && r.Name == m.Key[(dot + 1)..]);
            Assert.Equal(m.Value!.Value, got.Value);
            Assert.Equal(m.Unit, got.Unit);
        }

        Assert.True(response.Calibration.RSquared > 0.99);
        Assert.Equal(2, response.Participant.Revision);
        var neckVolume = response.Measures.Single(r => r.Region == "neck" && r.Name == "pvc_volume").Value;
        Assert.Equal(neckVolume, response.Participant.Record.Qct.FemoralNeck.TotalVolumeCm3);
        Assert.Equal(60, response.Participant.Record.Demographics.AgeYears);
    }

    [Fact]
    public async Task AnalyzeSeries_InterleavedChunksAndWholeFileChunks_EqualLibrary()
    {
        // The service parses a file early when the stream moves on to another one; files whose chunks interleave
        // (allowed) grow after that guess and must be parsed again. Files sent as one chunk are used without a copy.
        var folder = MakePhantom();
        var ct = Directory.GetFiles(Path.Combine(folder, "ct"), "*.dcm").Order(StringComparer.Ordinal).ToArray();
        var labels = Directory.GetFiles(Path.Combine(folder, "labels"), "*.dcm").Order(StringComparer.Ordinal).ToArray();
        var expected = QctAnalyzer.AnalyzeFiles(ct, labels).ToMeasures().Where(m => m.Value is { } v && double.IsFinite(v)).ToList();
        var files = ct.Select(p => (p, SeriesFileKind.Ct)).Concat(labels.Select(p => (p, SeriesFileKind.Label)))
            .Select(f => (Id: f.Item2 + "/" + Path.GetFileName(f.p), Kind: f.Item2, Bytes: File.ReadAllBytes(f.p))).ToList();

        foreach (var interleaved in new[] { true, false })
        {
            using var call = _qct.AnalyzeSeries();
            await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Header = new AnalyzeSeriesHeader() });
            if (interleaved)
            {
                // Round robin: the first 4 KiB of every file, then the next 4 KiB of every file, and so on.
                for (var offset = 0; files.Exists(f => offset < f.Bytes.Length); offset += 4096)
                {
                    foreach (var f in files.Where(f => offset < f.Bytes.Length))
                    {
                        await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Chunk = new FileChunk { FileId = f.Id, Kind = f.Kind, Data = ByteString.CopyFrom(f.Bytes, offset, Math.Min(4096, f.Bytes.Length - offset)) } });
                    }
                }
            }
            else
            {
                foreach (var f in files)
                {
                    await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Chunk = new FileChunk { FileId = f.Id, Kind = f.Kind, Data = ByteString.CopyFrom(f.Bytes) } });
                }
            }

            await call.RequestStream.CompleteAsync();
            var response = await call.ResponseAsync;
            Assert.Equal(expected.Count, response.Measures.Count);
            foreach (var m in expected)
            {
                var dot = m.Key.IndexOf('.', StringComparison.Ordinal);
                Assert.Equal(m.Value!.Value, response.Measures.Single(r => r.Region == m.Key[..dot] && r.Name == m.Key[(dot + 1)..]).Value);
            }
        }
    }

    [Fact]
    public async Task AnalyzeSeries_ChunkBeforeHeaderOrTruncatedFile_InvalidArgument()
    {
        using (var call = _qct.AnalyzeSeries())
        {
            await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Chunk = new FileChunk { FileId = "a", Kind = SeriesFileKind.Ct, Data = ByteString.CopyFromUtf8("x") } });
            await call.RequestStream.CompleteAsync();
            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        }

        using (var call = _qct.AnalyzeSeries())
        {
            await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Header = new AnalyzeSeriesHeader() });
            await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Chunk = new FileChunk { FileId = "ct", Kind = SeriesFileKind.Ct, Data = ByteString.CopyFrom(new byte[200]) } });
            await call.RequestStream.WriteAsync(new AnalyzeSeriesRequest { Chunk = new FileChunk { FileId = "lab", Kind = SeriesFileKind.Label, Data = ByteString.CopyFrom(new byte[200]) } });
            await call.RequestStream.CompleteAsync();
            var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.False(string.IsNullOrWhiteSpace(error.Status.Detail));
        }
    }

    private static string MakePhantom()
    {
        var folder = Directory.CreateTempSubdirectory("homabone-qct-e2e-").FullName;
        var script = Path.Combine(ServiceProcess.RepositoryRoot, "tests", "HomaBone.Qct.Tests", "Scripts", "make_phantom.py");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { script, folder, "3", "7" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "make_phantom.py failed (python3-pydicom and python3-numpy are installed by the test command): " + stderr);
        return folder;
    }
}
