using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using HomaBone.Contracts.V1;

namespace HomaBone.EndToEnd.Tests;

/// <summary>Development certificates made by scripts/dev-certs.sh: one CA for the service, another for strangers.</summary>
public sealed class DevCertificatesFixture : IDisposable
{
    public DevCertificatesFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("homabone-certs-").FullName;
        Make(Directory, "ingest", "analyst");
        Make(Path.Combine(Directory, "rogue"), "analyst");
        Ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Directory, "ca.pem"));
    }

    public string Directory { get; }

    public X509Certificate2 Ca { get; }

    public string PathOf(string file) => Path.Combine(Directory, file);

    public X509Certificate2 Client(string name, bool rogue = false)
    {
        var folder = rogue ? Path.Combine(Directory, "rogue") : Directory;
        return X509Certificate2.CreateFromPemFile(Path.Combine(folder, $"client-{name}.pem"), Path.Combine(folder, $"client-{name}.key"));
    }

    public string[] TlsArgs =>
    [
        $"--HomaBone:TlsCertificatePath={PathOf("server.pem")}",
        $"--HomaBone:TlsKeyPath={PathOf("server.key")}",
    ];

    public void Dispose()
    {
        Ca.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Make(string directory, params string[] clients)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(ServiceProcess.RepositoryRoot, "scripts", "dev-certs.sh"));
        start.ArgumentList.Add(directory);
        foreach (var client in clients)
        {
            start.ArgumentList.Add(client);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("dev-certs.sh failed: " + error);
        }
    }
}

/// <summary>TLS, mutual TLS and the refusals: plaintext when TLS is required, no authentication off loopback.</summary>
public sealed class SecurityTlsTests(DevCertificatesFixture certs) : IClassFixture<DevCertificatesFixture>
{
    [Fact]
    public async Task RequireTls_WithoutCertificate_RefusesToStart()
    {
        await using var service = new ServiceProcess();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => service.StartAsync("--HomaBone:RequireTls=true"));
        Assert.Contains("RequireTls", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonLoopbackBind_WithoutAuthentication_RefusesToStart()
    {
        await using var service = new ServiceProcess();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => service.StartAsync("--HomaBone:BindAddress=0.0.0.0", "--HomaBone:AllowPlaintext=true"));
        Assert.Contains("No authentication is configured", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_ServesHttps_AndRefusesPlaintext()
    {
        await using var service = new ServiceProcess { Scheme = "https", TrustedCa = certs.Ca };
        await service.StartAsync([.. certs.TlsArgs, "--HomaBone:RequireTls=true"]);
        var cohorts = new CohortService.CohortServiceClient(service.CreateChannel());
        var created = await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = ServiceFixture.NewId("tls") });
        Assert.StartsWith("cohorts/", created.Cohort.Name, StringComparison.Ordinal);

        using var plaintext = GrpcChannel.ForAddress($"http://127.0.0.1:{service.GrpcPort}");
        var refused = await Assert.ThrowsAsync<RpcException>(() => new CohortService.CohortServiceClient(plaintext).GetCohortAsync(new GetCohortRequest { Name = created.Cohort.Name }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
        Assert.NotEqual(StatusCode.OK, refused.StatusCode);
    }

    [Fact]
    public async Task MutualTls_MapsCertificatesToRoles_AndRefusesMissingOrForeignCertificates()
    {
        using var analyst = certs.Client("analyst");
        using var ingest = certs.Client("ingest");
        using var rogue = certs.Client("analyst", rogue: true);
        await using var service = new ServiceProcess { Scheme = "https", TrustedCa = certs.Ca, ClientCertificate = analyst };
        await service.StartAsync(
        [
            .. certs.TlsArgs,
            "--HomaBone:ClientCertificateMode=Require",
            $"--HomaBone:ClientCaPath={certs.PathOf("ca.pem")}",
            "--HomaBone:Security:ClientCertificates:0:Subject=CN=analyst",
            "--HomaBone:Security:ClientCertificates:0:Roles=analyst",
            $"--HomaBone:Security:ClientCertificates:1:Thumbprint={ingest.Thumbprint}",
            "--HomaBone:Security:ClientCertificates:1:Roles=ingest",
        ]);

        // The analyst certificate: aggregates yes (NOT_FOUND for a missing cohort), writes no.
        var asAnalyst = new CohortService.CohortServiceClient(service.CreateChannel(analyst));
        var missing = await Assert.ThrowsAsync<RpcException>(() => asAnalyst.GetCohortAsync(new GetCohortRequest { Name = "cohorts/none" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var create = await Assert.ThrowsAsync<RpcException>(() => asAnalyst.CreateCohortAsync(new CreateCohortRequest { CohortId = "x" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, create.StatusCode);

        // The ingest certificate (mapped by thumbprint) may write but not read aggregates.
        var asIngest = new CohortService.CohortServiceClient(service.CreateChannel(ingest));
        var read = await Assert.ThrowsAsync<RpcException>(() => asIngest.GetCohortAsync(new GetCohortRequest { Name = "cohorts/none" }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, read.StatusCode);

        // No certificate, or one from another CA: the TLS handshake is refused.
        foreach (var certificate in new[] { null, rogue })
        {
            using var channel = service.CreateChannel(certificate);
            var refused = await Assert.ThrowsAsync<RpcException>(() => new CohortService.CohortServiceClient(channel).GetCohortAsync(new GetCohortRequest { Name = "cohorts/none" }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
            // The refused handshake surfaces as UNAVAILABLE or, when the server's TLS alert races the HTTP/2
            // preface, as INTERNAL with the transport error; either way no call reaches the service.
            Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        }
    }

    [Fact]
    public async Task Limits_RateAndMessageSize_AnswerResourceExhausted()
    {
        await using var service = new ServiceProcess();
        await service.StartAsync("--HomaBone:Security:RateLimitPermits=5", "--HomaBone:Security:RateLimitWindow=00:10:00", "--HomaBone:Security:MaxRequestMessageBytes=4096");
        var cohorts = new CohortService.CohortServiceClient(service.CreateChannel());
        var big = await Assert.ThrowsAsync<RpcException>(() => cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = "big", Cohort = new Cohort { DisplayName = new string('x', 10_000) } }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, big.StatusCode);

        var statuses = new List<StatusCode>();
        for (var i = 0; i < 8; i++)
        {
            try
            {
                await cohorts.GetCohortAsync(new GetCohortRequest { Name = "cohorts/none" });
                statuses.Add(StatusCode.OK);
            }
            catch (RpcException ex)
            {
                statuses.Add(ex.StatusCode);
            }
        }

        Assert.Equal([.. Enumerable.Repeat(StatusCode.NotFound, 4), .. Enumerable.Repeat(StatusCode.ResourceExhausted, 4)], statuses);
    }
}
