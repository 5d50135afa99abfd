using System.Globalization;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// No participant identifier and no health value in anything the process emits: all its logs at Debug
/// (Orleans, ASP.NET Core, gRPC included), every span (console trace exporter) and the Prometheus metrics,
/// captured over a full ingest-and-analysis run, including JSON reads whose URL path names the participant.
/// </summary>
public sealed class TelemetryHygieneTests
{
    // Distinctive values that cannot appear by chance: if one shows up, it leaked.
    private const double Glucose = 97.3125;
    private const double Insulin = 8.4375;
    private const double Weight = 63.8125;
    private const double Height = 158.5625;
    private const double Age = 61.4375;

    [Fact]
    public async Task IngestAndAnalysisRun_LeavesNoIdentifierOrHealthValueInLogsTracesOrMetrics()
    {
        await using var service = new ServiceProcess();
        await service.StartAsync(
            "--Logging:LogLevel:Default=Debug",
            "--Logging:LogLevel:Microsoft=Debug",
            "--Logging:LogLevel:Microsoft.AspNetCore=Debug",
            "--Logging:LogLevel:Orleans=Debug",
            "--Logging:LogLevel:Grpc=Debug",
            "--Logging:LogLevel:Grpc.AspNetCore.Grpc.JsonTranscoding=Debug",
            "--HomaBone:Telemetry:ConsoleTraces=true");
        var cohorts = new CohortService.CohortServiceClient(service.CreateChannel());
        var participants = new ParticipantService.ParticipantServiceClient(service.CreateChannel());
        var cohortId = ServiceFixture.NewId("hyg");
        // A synthetic cohort large enough for every analysis to answer, with distinctive identifiers; the
        // first records carry values that cannot appear by chance.
        var cohort = SyntheticCohort.Generate(5, new SyntheticCohortOptions { Eligible = 80, IdPrefix = "zqident", Excluded = new Dictionary<Domain.ExclusionReason, int>() }).ToList();
        var ids = cohort.Select(p => p.ParticipantId).ToList();
        var records = cohort.Select(p => ParticipantMapping.FromDomain(p.Record)).ToList();
        for (var i = 0; i < 8; i++)
        {
            Distinctive(records[i]);
        }

        await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = cohortId });
        for (var i = 0; i < 3; i++)
        {
            await participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = $"cohorts/{cohortId}/participants/{ids[i]}", Record = records[i] }, RequestId = "req-" + ids[i] });
        }

        using (var import = participants.ImportParticipants())
        {
            var batch = new ImportParticipantsRequest { Parent = "cohorts/" + cohortId };
            batch.Entries.AddRange(ids.Skip(3).Select((id, i) => new ImportEntry { ParticipantId = id, Record = records[i + 3], RequestId = "imp-" + id }));
            await import.RequestStream.WriteAsync(batch);
            await import.RequestStream.CompleteAsync();
            while (await import.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        }

        // A stale write and a read of a missing participant: error paths log too.
        await Ignore(() => participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = $"cohorts/{cohortId}/participants/{ids[0]}", Record = records[0] }, RequestId = "stale", Etag = "nope" }).ResponseAsync);
        await Ignore(() => participants.GetParticipantAsync(new GetParticipantRequest { Name = $"cohorts/{cohortId}/participants/zqident-missing" }).ResponseAsync);
        foreach (var id in ids.Take(10))
        {
            await participants.GetParticipantAsync(new GetParticipantRequest { Name = $"cohorts/{cohortId}/participants/{id}" });
        }

        await participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = "cohorts/" + cohortId });
        await participants.WithdrawParticipantAsync(new WithdrawParticipantRequest { Name = $"cohorts/{cohortId}/participants/{ids[5]}", RequestId = "w" });
        await cohorts.GetCohortAsync(new GetCohortRequest { Name = "cohorts/" + cohortId });
        using (var watch = cohorts.WatchCohort(new WatchCohortRequest { Name = "cohorts/" + cohortId }, deadline: DateTime.UtcNow.AddSeconds(3)))
        {
            await Ignore(async () => await watch.ResponseStream.MoveNext(CancellationToken.None));
        }

        await Ignore(() => cohorts.GetFlowAsync(new GetFlowRequest { Name = "cohorts/" + cohortId }).ResponseAsync);
        await Ignore(() => cohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = "cohorts/" + cohortId }).ResponseAsync);
        await Ignore(() => cohorts.GetCharacteristicsAsync(new GetCharacteristicsRequest { Name = "cohorts/" + cohortId }).ResponseAsync);
        await Ignore(() => cohorts.GetGroupDifferencesAsync(new GetGroupDifferencesRequest { Name = "cohorts/" + cohortId }).ResponseAsync);
        await Ignore(() => cohorts.GetAssociationsAsync(new GetAssociationsRequest { Name = "cohorts/" + cohortId }).ResponseAsync);

        // JSON reads put the participant id in the URL path (request logs, server spans).
        using var http = new HttpClient { BaseAddress = new Uri(service.HttpAddress) };
        foreach (var id in ids.Take(2))
        {
            using var response = await http.GetAsync(new Uri($"/v1/cohorts/{cohortId}/participants/{id}", UriKind.Relative));
            Assert.True(response.IsSuccessStatusCode, $"JSON read answered {response.StatusCode}");
        }

        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        await service.StopAsync();
        var output = service.Output;

        // The capture is real: debug logs, spans and metrics are all there.
        Assert.Contains("dbug:", output, StringComparison.Ordinal);
        Assert.Contains("Activity.TraceId", output, StringComparison.Ordinal);
        Assert.Contains("homabone.v1.ParticipantService", output, StringComparison.Ordinal);
        Assert.Contains("# TYPE", metrics, StringComparison.Ordinal);

        foreach (var (name, text) in new[] { ("logs and traces", output), ("metrics", metrics) })
        {
            // Every generated id starts with "zqident": no id, and no part of one that keeps the prefix.
            Assert.False(text.Contains("zqident", StringComparison.Ordinal), $"a participant id appears in the {name}: {Around(text, "zqident")}");

            foreach (var value in new[] { Glucose, Insulin, Weight, Height, Age })
            {
                var formatted = value.ToString(CultureInfo.InvariantCulture);
                Assert.False(text.Contains(formatted, StringComparison.Ordinal), $"health value {formatted} appears in the {name}: {Around(text, formatted)}");
            }
        }
    }

    private static void Distinctive(ParticipantRecord record)
    {
        record.Demographics.AgeYears = Age;
        record.Anthropometry.HeightCm = Height;
        record.Anthropometry.WeightKg = Weight;
        record.Labs.Glucose = new Quantity { Value = Glucose, Unit = "mg/dL" };
        record.Labs.Insulin = new Quantity { Value = Insulin, Unit = "uIU/mL" };
    }

    private static string Around(string text, string needle)
    {
        var i = text.IndexOf(needle, StringComparison.Ordinal);
        return text.Substring(Math.Max(0, i - 300), Math.Min(text.Length - Math.Max(0, i - 300), 600));
    }

    private static async Task Ignore(Func<Task> call)
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
