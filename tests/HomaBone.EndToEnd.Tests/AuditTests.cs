using Grpc.Core;
using HomaBone.Contracts.V1;

namespace HomaBone.EndToEnd.Tests;

/// <summary>The audit log: every call leaves an entry (allowed, denied, failed), queryable only by auditors.</summary>
public sealed class AuditTests(SecuredServiceFixture fixture) : IClassFixture<SecuredServiceFixture>
{
    private static readonly string[] AggregateReads = ["GetCohort", "GetFlow", "GetQuartiles", "GetCharacteristics", "GetGroupDifferences", "GetAssociations"];

    private CallOptions As(string role) => TokenIssuer.Bearer(fixture.Tokens.Mint([role], subject: "svc-" + role));

    [Fact]
    public async Task Calls_AreAudited_WithPrincipalCohortParametersAndStatus()
    {
        var cohortId = ServiceFixture.NewId("aud");
        var cohort = "cohorts/" + cohortId;
        var cohorts = new CohortService.CohortServiceClient(fixture.Channel);
        var participants = new ParticipantService.ParticipantServiceClient(fixture.Channel);
        await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = cohortId }, As("admin"));
        await participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = cohort + "/participants/secret-id-93", Record = GrpcApiTests.SampleRecord(61) }, RequestId = "r" }, As("ingest"));
        await participants.GetParticipantAsync(new GetParticipantRequest { Name = cohort + "/participants/secret-id-93" }, As("admin"));
        await participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = cohort, PageSize = 7 }, As("admin"));
        await Assert.ThrowsAsync<RpcException>(() => participants.GetParticipantAsync(new GetParticipantRequest { Name = cohort + "/participants/secret-id-93" }, As("analyst")).ResponseAsync);

        // Every aggregate read of the run, whatever it answers (the analysis may refuse small cohorts).
        await cohorts.GetCohortAsync(new GetCohortRequest { Name = cohort }, As("analyst"));
        await IgnoreStatus(() => cohorts.GetFlowAsync(new GetFlowRequest { Name = cohort }, As("analyst")).ResponseAsync);
        await IgnoreStatus(() => cohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = cohort }, As("analyst")).ResponseAsync);
        await IgnoreStatus(() => cohorts.GetCharacteristicsAsync(new GetCharacteristicsRequest { Name = cohort }, As("analyst")).ResponseAsync);
        await IgnoreStatus(() => cohorts.GetGroupDifferencesAsync(new GetGroupDifferencesRequest { Name = cohort }, As("analyst")).ResponseAsync);
        var associations = new GetAssociationsRequest { Name = cohort };
        associations.Models.Add("model 1");
        await IgnoreStatus(() => cohorts.GetAssociationsAsync(associations, As("analyst")).ResponseAsync);

        var entries = await ListAllAsync(new ListAuditEntriesRequest { CohortId = cohortId, PageSize = 3 });
        Assert.True(entries.Count >= 11, $"expected at least 11 entries, got {entries.Count}");
        Assert.True(entries.Zip(entries.Skip(1)).All(p => p.First.Sequence > p.Second.Sequence), "newest first, no repeats across pages");

        var upsert = Assert.Single(entries, e => e.Rpc == "/homabone.v1.ParticipantService/UpsertParticipant");
        Assert.Equal("svc-ingest", upsert.Principal);
        Assert.Equal(0, upsert.StatusCode);
        Assert.Equal(1, upsert.ResultMessages);
        Assert.True(upsert.ResultBytes > 0);
        Assert.StartsWith("p_", upsert.Parameters["participant"], StringComparison.Ordinal);

        var reads = entries.Where(e => e.Rpc == "/homabone.v1.ParticipantService/GetParticipant").ToList();
        Assert.Contains(reads, e => e.Principal == "svc-admin" && e.StatusCode == 0);
        Assert.Contains(reads, e => e.Principal == "svc-analyst" && e.StatusCode == (int)StatusCode.PermissionDenied && e.ResultMessages == 0);
        Assert.Single(reads.Select(e => e.Parameters["participant"]).Distinct());
        Assert.Equal("7", Assert.Single(entries, e => e.Rpc.EndsWith("/ListParticipants", StringComparison.Ordinal)).Parameters["page_size"]);
        foreach (var rpc in AggregateReads)
        {
            var entry = Assert.Single(entries, e => e.Rpc == "/homabone.v1.CohortService/" + rpc);
            Assert.Equal("svc-analyst", entry.Principal);
            Assert.Equal(cohortId, entry.CohortId);
        }

        Assert.Equal("model 1", Assert.Single(entries, e => e.Rpc.EndsWith("/GetAssociations", StringComparison.Ordinal)).Parameters["models"]);

        // No identifier and no health value in any entry.
        var text = string.Join("\n", entries.Select(e => e.ToString()));
        Assert.DoesNotContain("secret-id-93", text, StringComparison.Ordinal);
        Assert.DoesNotContain("57.4", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AggregateReads_RecordCohortVersionAndDisclosureActions()
    {
        var cohortId = ServiceFixture.NewId("dis");
        var cohorts = new CohortService.CohortServiceClient(fixture.Channel);
        var participants = new ParticipantService.ParticipantServiceClient(fixture.Channel);
        await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = cohortId }, As("admin"));
        var cohort = Synthetic.SyntheticCohort.Generate(3, new Synthetic.SyntheticCohortOptions { Eligible = 10, Excluded = new Dictionary<Domain.ExclusionReason, int>() }).ToList();
        foreach (var p in cohort)
        {
            await participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = $"cohorts/{cohortId}/participants/{p.ParticipantId.ToLowerInvariant()}", Record = Grains.ParticipantMapping.FromDomain(p.Record) }, RequestId = "r" }, As("ingest"));
        }

        // Ten participants in four exposure groups: small cells are likely suppressed.
        GetQuartilesResponse? quartiles = null;
        for (var attempt = 0; attempt < 100 && quartiles?.Metadata?.NUsed is not 10; attempt++)
        {
            try
            {
                quartiles = await cohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = "cohorts/" + cohortId }, As("analyst"));
            }
            catch (RpcException)
            {
            }

            await Task.Delay(100);
        }

        var entries = await ListAllAsync(new ListAuditEntriesRequest { CohortId = cohortId, Rpc = "GetQuartiles" });
        var answered = entries.Where(e => e.StatusCode == 0).ToList();
        Assert.NotEmpty(answered);
        var last = answered[0];
        Assert.True(last.CohortVersion > 0, "the cohort version of the answer is recorded");
        Assert.Equal(quartiles!.Metadata.CohortVersion, last.CohortVersion);
        var suppressed = quartiles.Groups.Count(g => g.Suppression != SuppressionReason.Unspecified);
        if (suppressed > 0)
        {
            Assert.Contains(last.DisclosureActions, a => a.StartsWith("SUPPRESSION_REASON_", StringComparison.Ordinal) && a.Contains("ExposureGroup", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ListAuditEntries_FiltersByPrincipalAndRpc()
    {
        var cohorts = new CohortService.CohortServiceClient(fixture.Channel);
        var subject = ServiceFixture.NewId("who");
        await IgnoreStatus(() => cohorts.GetCohortAsync(new GetCohortRequest { Name = "cohorts/nothing-here" }, TokenIssuer.Bearer(fixture.Tokens.Mint(["analyst"], subject: subject))).ResponseAsync);
        await IgnoreStatus(() => cohorts.GetFlowAsync(new GetFlowRequest { Name = "cohorts/nothing-here" }, TokenIssuer.Bearer(fixture.Tokens.Mint(["analyst"], subject: subject))).ResponseAsync);

        var mine = await ListAllAsync(new ListAuditEntriesRequest { Principal = subject });
        Assert.Equal(2, mine.Count);
        var flow = Assert.Single(await ListAllAsync(new ListAuditEntriesRequest { Principal = subject, Rpc = "GetFlow" }));
        Assert.Equal("/homabone.v1.CohortService/GetFlow", flow.Rpc);
        var future = await ListAllAsync(new ListAuditEntriesRequest { Principal = subject, StartTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow.AddHours(1)) });
        Assert.Empty(future);
    }

    [Fact]
    public async Task ListAuditEntries_IsForAuditorsOnly_AndAuditsItself()
    {
        var audit = new AuditService.AuditServiceClient(fixture.Channel);
        foreach (var role in (string[])["ingest", "analyst", "admin"])
        {
            var denied = await Assert.ThrowsAsync<RpcException>(() => audit.ListAuditEntriesAsync(new ListAuditEntriesRequest(), As(role)).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        }

        var anonymous = await Assert.ThrowsAsync<RpcException>(() => audit.ListAuditEntriesAsync(new ListAuditEntriesRequest(), TokenIssuer.Bearer(null)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);

        var own = await ListAllAsync(new ListAuditEntriesRequest { Rpc = "/homabone.v1.AuditService/ListAuditEntries" });
        Assert.Contains(own, e => e.Principal == "svc-admin" && e.StatusCode == (int)StatusCode.PermissionDenied);
        Assert.Contains(own, e => e.Principal == "anonymous" && e.StatusCode == (int)StatusCode.Unauthenticated);
    }

    [Fact]
    public async Task ListAuditEntries_RejectsTokensOfOtherFiltersAndBadPageSizes()
    {
        var audit = new AuditService.AuditServiceClient(fixture.Channel);
        var first = await audit.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 1 }, As("auditor"));
        Assert.NotEmpty(first.NextPageToken);
        var replay = await Assert.ThrowsAsync<RpcException>(() => audit.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 1, Principal = "someone", PageToken = first.NextPageToken }, As("auditor")).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, replay.StatusCode);
        var tooBig = await Assert.ThrowsAsync<RpcException>(() => audit.ListAuditEntriesAsync(new ListAuditEntriesRequest { PageSize = 5000 }, As("auditor")).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tooBig.StatusCode);
    }

    [Fact]
    public void AuditService_HasNoWriteOrDeleteMethod()
    {
        Assert.Equal(["ListAuditEntries"], AuditService.Descriptor.Methods.Select(m => m.Name));
    }

    private async Task<List<AuditEntry>> ListAllAsync(ListAuditEntriesRequest request)
    {
        var audit = new AuditService.AuditServiceClient(fixture.Channel);
        var result = new List<AuditEntry>();
        while (true)
        {
            var page = await audit.ListAuditEntriesAsync(request, As("auditor"));
            result.AddRange(page.Entries);
            if (page.NextPageToken.Length == 0)
            {
                return result;
            }

            request = request.Clone();
            request.PageToken = page.NextPageToken;
        }
    }

    private static async Task IgnoreStatus(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (RpcException)
        {
        }
    }
}
