using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Health.V1;
using HomaBone.Contracts.V1;

namespace HomaBone.EndToEnd.Tests;

/// <summary>Authentication and the role × RPC policy against the real process with JWT configured.</summary>
public sealed class SecurityTests(SecuredServiceFixture fixture) : IClassFixture<SecuredServiceFixture>
{
    private const string Ingest = "ingest";
    private const string Analyst = "analyst";
    private const string Admin = "admin";
    private const string Auditor = "auditor";

    /// <summary>
    /// The expected policy, written independently of the service's table (src/Gateway/Security/RpcPolicy.cs):
    /// method → the roles allowed. Every other role is denied.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> Expected = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["/homabone.v1.ParticipantService/UpsertParticipant"] = [Ingest],
        ["/homabone.v1.ParticipantService/ImportParticipants"] = [Ingest],
        ["/homabone.v1.ParticipantService/WithdrawParticipant"] = [Ingest],
        ["/homabone.v1.ParticipantService/GetParticipant"] = [Admin],
        ["/homabone.v1.ParticipantService/ListParticipants"] = [Admin],
        ["/homabone.v1.CohortService/CreateCohort"] = [Admin],
        ["/homabone.v1.CohortService/UpdateCohort"] = [Admin],
        ["/homabone.v1.CohortService/GetCohort"] = [Analyst, Admin],
        ["/homabone.v1.CohortService/GetFlow"] = [Analyst],
        ["/homabone.v1.CohortService/GetQuartiles"] = [Analyst],
        ["/homabone.v1.CohortService/GetCharacteristics"] = [Analyst],
        ["/homabone.v1.CohortService/GetGroupDifferences"] = [Analyst],
        ["/homabone.v1.CohortService/GetAssociations"] = [Analyst],
        ["/homabone.v1.CohortService/WatchCohort"] = [Analyst],
        ["/homabone.v1.QctService/AnalyzeSeries"] = [Ingest],
        ["/homabone.v1.AuditService/ListAuditEntries"] = [Auditor],
    };

    private static readonly ServiceDescriptor[] Services =
    [
        ParticipantService.Descriptor,
        CohortService.Descriptor,
        QctService.Descriptor,
        AuditService.Descriptor,
    ];

    public static TheoryData<string, string> RolePairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var method in Expected.Keys)
        {
            foreach (var role in (string[])[Ingest, Analyst, Admin, Auditor])
            {
                data.Add(method, role);
            }
        }

        return data;
    }

    public static TheoryData<string> Methods()
    {
        var data = new TheoryData<string>();
        foreach (var method in Expected.Keys)
        {
            data.Add(method);
        }

        return data;
    }

    [Fact]
    public void PolicyTable_CoversEveryRpcOfEveryService()
    {
        var all = Services.SelectMany(s => s.Methods).Select(m => $"/{m.Service.FullName}/{m.Name}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(all, Expected.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(RolePairs))]
    public async Task Rpc_WithSingleRole_IsAllowedOnlyForItsRoles(string method, string role)
    {
        var token = fixture.Tokens.Mint([role], subject: "svc-" + role);
        var status = await SecuredServiceFixture.CallRawAsync(fixture.Channel, method, TypeOf(method), TokenIssuer.Bearer(token));
        if (Expected[method].Contains(role))
        {
            Assert.NotEqual(StatusCode.PermissionDenied, status);
            Assert.NotEqual(StatusCode.Unauthenticated, status);
        }
        else
        {
            Assert.Equal(StatusCode.PermissionDenied, status);
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Rpc_ValidTokenWithoutRoles_IsPermissionDenied(string method)
    {
        var token = fixture.Tokens.Mint([], subject: "svc-none");
        Assert.Equal(StatusCode.PermissionDenied, await SecuredServiceFixture.CallRawAsync(fixture.Channel, method, TypeOf(method), TokenIssuer.Bearer(token)));
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Rpc_WithoutToken_IsUnauthenticated(string method)
    {
        Assert.Equal(StatusCode.Unauthenticated, await SecuredServiceFixture.CallRawAsync(fixture.Channel, method, TypeOf(method), TokenIssuer.Bearer(null)));
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("forged")]
    [InlineData("wrong-audience")]
    [InlineData("wrong-issuer")]
    [InlineData("garbage")]
    public async Task Rpc_WithInvalidToken_IsUnauthenticated(string kind)
    {
        string[] roles = [Ingest, Analyst, Admin, Auditor];
        var token = kind switch
        {
            "expired" => fixture.Tokens.Mint(roles, expiresIn: TimeSpan.FromMinutes(-10)),
            "forged" => fixture.Tokens.Mint(roles, forged: true),
            "wrong-audience" => fixture.Tokens.Mint(roles, audience: "another-service"),
            "wrong-issuer" => fixture.Tokens.Mint(roles, issuer: "https://evil.example"),
            _ => "not.a.token",
        };
        var cohorts = new CohortService.CohortServiceClient(fixture.Channel);
        var ex = await Assert.ThrowsAsync<RpcException>(() => cohorts.GetCohortAsync(new GetCohortRequest { Name = "cohorts/any" }, TokenIssuer.Bearer(token)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Fact]
    public async Task Health_WithoutToken_IsServing()
    {
        var health = new Health.HealthClient(fixture.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
    }

    [Fact]
    public async Task Reflection_NeedsAnIdentity_ButNoRole()
    {
        const string method = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
        Assert.Equal(StatusCode.Unauthenticated, await SecuredServiceFixture.CallRawAsync(fixture.Channel, method, MethodType.DuplexStreaming, TokenIssuer.Bearer(null)));
        Assert.Equal(StatusCode.OK, await SecuredServiceFixture.CallRawAsync(fixture.Channel, method, MethodType.DuplexStreaming, TokenIssuer.Bearer(fixture.Tokens.Mint([]))));
    }

    [Fact]
    public async Task AllowedCall_WithToken_Works()
    {
        var cohorts = new CohortService.CohortServiceClient(fixture.Channel);
        var participants = new ParticipantService.ParticipantServiceClient(fixture.Channel);
        var id = ServiceFixture.NewId("sec");
        await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = id }, TokenIssuer.Bearer(fixture.Tokens.Mint([Admin])));
        var written = await participants.UpsertParticipantAsync(
            new UpsertParticipantRequest { Participant = new Participant { Name = $"cohorts/{id}/participants/p1", Record = GrpcApiTests.SampleRecord(60) }, RequestId = "r1" },
            TokenIssuer.Bearer(fixture.Tokens.Mint([Ingest])));
        Assert.Equal(1, written.Participant.Revision);

        var analystRead = await Assert.ThrowsAsync<RpcException>(() => participants.GetParticipantAsync(new GetParticipantRequest { Name = written.Participant.Name }, TokenIssuer.Bearer(fixture.Tokens.Mint([Analyst]))).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, analystRead.StatusCode);
        var adminRead = await participants.GetParticipantAsync(new GetParticipantRequest { Name = written.Participant.Name }, TokenIssuer.Bearer(fixture.Tokens.Mint([Admin])));
        Assert.Equal(written.Participant, adminRead.Participant);
    }

    [Fact]
    public async Task JsonTranscoding_IsUnderTheSamePolicy()
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.Service.HttpAddress) };
        using (var anonymous = await http.GetAsync(new Uri("/v1/cohorts/nope", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using var asIngest = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/cohorts/nope/participants/p1", UriKind.Relative));
        asIngest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Tokens.Mint([Ingest, Analyst]));
        using (var denied = await http.SendAsync(asIngest))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        }

        using var asAnalyst = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/cohorts/nope", UriKind.Relative));
        asAnalyst.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Tokens.Mint([Analyst]));
        using var allowed = await http.SendAsync(asAnalyst);
        Assert.Equal(HttpStatusCode.NotFound, allowed.StatusCode);
    }

    private static MethodType TypeOf(string fullMethod)
    {
        var method = Services.SelectMany(s => s.Methods).Single(m => $"/{m.Service.FullName}/{m.Name}" == fullMethod);
        return (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            _ => MethodType.DuplexStreaming,
        };
    }
}
