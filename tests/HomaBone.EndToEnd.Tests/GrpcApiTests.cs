using System.Net;
using System.Text.Json;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using HomaBone.Contracts.V1;

namespace HomaBone.EndToEnd.Tests;

/// <summary>The public API through real Kestrel HTTP/2 with Grpc.Net.Client against the running process.</summary>
public sealed class GrpcApiTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private readonly ParticipantService.ParticipantServiceClient _participants = new(fixture.Service.CreateChannel());
    private readonly CohortService.CohortServiceClient _cohorts = new(fixture.Service.CreateChannel());

    [Fact]
    public async Task Health_WhenStarted_IsServing()
    {
        var health = new Health.HealthClient(fixture.Service.CreateChannel());
        var reply = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task HealthEndpoints_WhenStarted_AnswerOk()
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.Service.HttpAddress) };
        foreach (var path in new[] { "/health/startup", "/health/ready", "/health/live" })
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("# TYPE", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateCohort_DefaultSettings_AreThePapers()
    {
        var id = ServiceFixture.NewId("c");
        var cohort = (await _cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = id, Cohort = new Cohort { DisplayName = "test" } })).Cohort;
        Assert.Equal("cohorts/" + id, cohort.Name);
        Assert.Equal(4, cohort.Settings.GroupCount);
        Assert.Equal(QuantileDefinition.Type2, cohort.Settings.QuantileDefinition);
        Assert.Equal(["model 1", "model 2", "model 3"], cohort.Settings.Models.Select(m => m.Label));
        Assert.Equal(["age", "height", "weight"], cohort.Settings.Models[0].Covariates.Select(c => c.Variable));
        Assert.Equal(3, cohort.Settings.Disclosure.MinCellCount);
        Assert.Equal(6.0, cohort.Settings.InsulinPmolPerUiu);
        Assert.False(string.IsNullOrEmpty(cohort.Etag));

        var again = await Assert.ThrowsAsync<RpcException>(() => _cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = id }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, again.StatusCode);
    }

    [Fact]
    public async Task CohortWrites_RepeatedWithTheirRequestId_AnswerTheCohort_AndChangeNothing()
    {
        var id = ServiceFixture.NewId("c");
        var create = new CreateCohortRequest { CohortId = id, Cohort = new Cohort { DisplayName = "v1" }, RequestId = "create-" + id };
        var created = (await _cohorts.CreateCohortAsync(create)).Cohort;
        Assert.Equal(created, (await _cohorts.CreateCohortAsync(create)).Cohort); // its answer was lost: sent again
        var other = await Assert.ThrowsAsync<RpcException>(() => _cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = id, RequestId = "another" }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, other.StatusCode);

        var update = new UpdateCohortRequest { Cohort = new Cohort { Name = created.Name, DisplayName = "v2", Etag = created.Etag }, UpdateMask = new() { Paths = { "display_name" } }, RequestId = "update-" + id };
        var updated = (await _cohorts.UpdateCohortAsync(update)).Cohort;
        Assert.Equal("v2", updated.DisplayName);
        var repeated = (await _cohorts.UpdateCohortAsync(update)).Cohort; // its etag is stale now
        Assert.Equal(updated.Etag, repeated.Etag);
        Assert.Equal(updated.UpdateTime, repeated.UpdateTime);
        update.RequestId = "another";
        Assert.Equal(StatusCode.Aborted, (await Assert.ThrowsAsync<RpcException>(() => _cohorts.UpdateCohortAsync(update).ResponseAsync)).StatusCode);

        var tooLong = await Assert.ThrowsAsync<RpcException>(() => _cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = ServiceFixture.NewId("c"), RequestId = new string('r', 129) }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tooLong.StatusCode);
        Assert.Contains(tooLong.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == "request_id");
    }

    [Fact]
    public async Task UpdateCohort_WithMaskAndStaleEtag_AppliesThenRefuses()
    {
        var created = await CreateCohortAsync();
        var patch = new Cohort { Name = created.Name, Etag = created.Etag, DisplayName = "renamed", Settings = new CohortSettings { GroupCount = 5 } };
        var mask = new Google.Protobuf.WellKnownTypes.FieldMask();
        mask.Paths.Add("display_name");
        mask.Paths.Add("settings.group_count");
        var updated = (await _cohorts.UpdateCohortAsync(new UpdateCohortRequest { Cohort = patch, UpdateMask = mask })).Cohort;
        Assert.Equal("renamed", updated.DisplayName);
        Assert.Equal(5, updated.Settings.GroupCount);
        Assert.Equal(3, updated.Settings.Models.Count);
        Assert.NotEqual(created.Etag, updated.Etag);

        var stale = await Assert.ThrowsAsync<RpcException>(() => _cohorts.UpdateCohortAsync(new UpdateCohortRequest { Cohort = patch, UpdateMask = mask }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, stale.StatusCode);
    }

    [Fact]
    public async Task UpsertParticipant_RetriedRequestId_ReturnsFirstResponseAndChangesNothing()
    {
        var cohort = await CreateCohortAsync();
        var name = cohort.Name + "/participants/p1";
        var request = new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = SampleRecord(57) }, RequestId = "req-1" };
        var first = await _participants.UpsertParticipantAsync(request);
        var retry = await _participants.UpsertParticipantAsync(request);
        Assert.True(first.Created);
        Assert.Equal(first.Participant, retry.Participant);
        Assert.True(retry.Created);
        var current = await _participants.GetParticipantAsync(new GetParticipantRequest { Name = name });
        Assert.Equal(1, current.Participant.Revision);
    }

    [Fact]
    public async Task UpsertParticipant_Correction_MakesRevision2AndKeepsRevision1()
    {
        var cohort = await CreateCohortAsync();
        var name = cohort.Name + "/participants/p2";
        var first = await _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = SampleRecord(57) }, RequestId = "a" });
        var second = await _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = SampleRecord(58) }, RequestId = "b", Etag = first.Participant.Etag });
        Assert.Equal(2, second.Participant.Revision);
        Assert.False(second.Created);
        var revision1 = await _participants.GetParticipantAsync(new GetParticipantRequest { Name = name, Revision = 1 });
        Assert.Equal(first.Participant, revision1.Participant);
        Assert.Equal(57, revision1.Participant.Record.Demographics.AgeYears);
        var current = await _participants.GetParticipantAsync(new GetParticipantRequest { Name = name });
        Assert.Equal(58, current.Participant.Record.Demographics.AgeYears);
    }

    [Fact]
    public async Task UpsertParticipant_StaleEtag_IsAbortedAndStoresNothing()
    {
        var cohort = await CreateCohortAsync();
        var name = cohort.Name + "/participants/p3";
        var first = await _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = SampleRecord(57) }, RequestId = "a" });
        await _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = SampleRecord(58) }, RequestId = "b", Etag = first.Participant.Etag });
        var stale = await Assert.ThrowsAsync<RpcException>(() => _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = SampleRecord(59) }, RequestId = "c", Etag = first.Participant.Etag }).ResponseAsync);
        Assert.Equal(StatusCode.Aborted, stale.StatusCode);
        var current = await _participants.GetParticipantAsync(new GetParticipantRequest { Name = name });
        Assert.Equal(2, current.Participant.Revision);
    }

    [Fact]
    public async Task WithdrawParticipant_KeepsRecordAsWithdrawnRevision()
    {
        var cohort = await CreateCohortAsync();
        var name = cohort.Name + "/participants/p4";
        await _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = SampleRecord(60) } });
        var withdrawn = (await _participants.WithdrawParticipantAsync(new WithdrawParticipantRequest { Name = name, RequestId = "w" })).Participant;
        Assert.Equal(ParticipantState.Withdrawn, withdrawn.State);
        Assert.Equal(2, withdrawn.Revision);
        Assert.Equal(60, withdrawn.Record.Demographics.AgeYears);
        var change = await Assert.ThrowsAsync<RpcException>(() => _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = SampleRecord(61) } }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, change.StatusCode);
        var listed = await _participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = cohort.Name });
        Assert.DoesNotContain(listed.Participants, p => p.Name == name);
        var listedAll = await _participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = cohort.Name, ShowWithdrawn = true });
        Assert.Contains(listedAll.Participants, p => p.Name == name);
    }

    [Fact]
    public async Task UpsertParticipant_NonFiniteAndUnknownEnum_InvalidArgumentListsEveryField()
    {
        var cohort = await CreateCohortAsync();
        var record = SampleRecord(57);
        record.Anthropometry.WeightKg = double.NaN;
        record.Labs.Glucose = new Quantity { Value = double.PositiveInfinity, Unit = "mg/dL" };
        record.Demographics.Sex = (Sex)42;
        var error = await Assert.ThrowsAsync<RpcException>(() => _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = cohort.Name + "/participants/bad", Record = record } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var badRequest = error.GetRpcStatus()!.GetDetail<BadRequest>();
        var fields = badRequest.FieldViolations.Select(v => v.Field).ToHashSet();
        Assert.Contains("participant.record.anthropometry.weight_kg", fields);
        Assert.Contains("participant.record.labs.glucose.value", fields);
        Assert.Contains("participant.record.demographics.sex", fields);
        var notStored = await Assert.ThrowsAsync<RpcException>(() => _participants.GetParticipantAsync(new GetParticipantRequest { Name = cohort.Name + "/participants/bad" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, notStored.StatusCode);
    }

    [Fact]
    public async Task UpsertParticipant_UnknownCohort_IsNotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = "cohorts/no-such-cohort/participants/p", Record = SampleRecord(57) } }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task UpsertParticipant_MalformedName_InvalidArgumentWithFieldViolation()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = "cohorts/x/people/../../etc" } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("participant.name", error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Single().Field);
    }

    [Fact]
    public async Task ListParticipants_Paginates_InIdOrderWithoutDuplicates()
    {
        var cohort = await CreateCohortAsync();
        var ids = Enumerable.Range(0, 25).Select(i => $"id{i:D3}").ToList();
        foreach (var id in ids)
        {
            await _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = cohort.Name + "/participants/" + id, Record = SampleRecord(55) } });
        }

        var seen = new List<string>();
        var token = string.Empty;
        do
        {
            var page = await _participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = cohort.Name, PageSize = 7, PageToken = token });
            Assert.True(page.Participants.Count <= 7);
            seen.AddRange(page.Participants.Select(p => p.Name.Split('/')[^1]));
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        Assert.Equal(ids, seen);

        var forged = await Assert.ThrowsAsync<RpcException>(() => _participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = cohort.Name, PageToken = "not-a-token" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, forged.StatusCode);
    }

    [Fact]
    public async Task ImportParticipants_MixedBatch_ReportsPerRecordAndStoresTheGoodOnes()
    {
        var cohort = await CreateCohortAsync();
        using var call = _participants.ImportParticipants();
        var batch = new ImportParticipantsRequest { Parent = cohort.Name };
        batch.Entries.Add(new ImportEntry { ParticipantId = "ok1", Record = SampleRecord(55), RequestId = "i1" });
        var bad = SampleRecord(56);
        bad.Anthropometry.HeightCm = double.NaN;
        batch.Entries.Add(new ImportEntry { ParticipantId = "bad1", Record = bad, RequestId = "i2" });
        batch.Entries.Add(new ImportEntry { ParticipantId = "no/slash", Record = SampleRecord(57) });
        batch.Entries.Add(new ImportEntry { ParticipantId = "ok2", Record = SampleRecord(58), RequestId = "i4" });
        await call.RequestStream.WriteAsync(batch);
        await call.RequestStream.CompleteAsync();
        var results = new List<ImportResult>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            results.AddRange(response.Results);
        }

        Assert.Equal([0L, 1L, 2L, 3L], results.Select(r => r.Index));
        Assert.Equal([(int)Code.Ok, (int)Code.InvalidArgument, (int)Code.InvalidArgument, (int)Code.Ok], results.Select(r => r.Status.Code));
        Assert.Contains(results[1].Status.Details.Select(d => d.Unpack<BadRequest>()).SelectMany(b => b.FieldViolations), v => v.Field == "participant.record.anthropometry.height_cm");
        var listed = await _participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = cohort.Name });
        Assert.Equal(["ok1", "ok2"], listed.Participants.Select(p => p.Name.Split('/')[^1]));
    }

    [Fact]
    public async Task AnalysisRpcs_BeforeAnyVersionIsPublished_AnswerFailedPrecondition()
    {
        var cohort = await CreateCohortAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => _cohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = cohort.Name }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("no version is published", error.Status.Detail, StringComparison.Ordinal);
        var unknownVersion = await Assert.ThrowsAsync<RpcException>(() => _cohorts.GetFlowAsync(new GetFlowRequest { Name = cohort.Name, Version = 7 }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknownVersion.StatusCode);
        var unknownOutcome = await Assert.ThrowsAsync<RpcException>(() => _cohorts.GetAssociationsAsync(new GetAssociationsRequest { Name = cohort.Name, Outcomes = { "not_a_variable" } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, unknownOutcome.StatusCode);
    }

    [Fact]
    public async Task JsonTranscoding_GetCohort_ReturnsJson()
    {
        var cohort = await CreateCohortAsync();
        using var http = new HttpClient { BaseAddress = new Uri(fixture.Service.HttpAddress) };
        using var response = await http.GetAsync(new Uri("/v1/" + cohort.Name, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(cohort.Name, json.RootElement.GetProperty("cohort").GetProperty("name").GetString());
        using var missing = await http.GetAsync(new Uri("/v1/cohorts/does-not-exist", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    internal static ParticipantRecord SampleRecord(double age) => new()
    {
        Demographics = new Demographics { Sex = Sex.Female, AgeYears = age, MenstrualFlowWithin12Months = false, AntidiabeticMedication = false },
        Anthropometry = new Anthropometry { HeightCm = 156.2, WeightKg = 57.4, WaistCm = 80.5, ThighCm = 50.1 },
        Labs = new Labs
        {
            Glucose = new Quantity { Value = 95, Unit = "mg/dL" },
            Insulin = new Quantity { Value = 7.2, Unit = "uIU/mL" },
            Hba1C = new Quantity { Value = 5.6, Unit = "%" },
        },
    };

    private async Task<Cohort> CreateCohortAsync() =>
        (await _cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = ServiceFixture.NewId("c"), Cohort = new Cohort() })).Cohort;
}
