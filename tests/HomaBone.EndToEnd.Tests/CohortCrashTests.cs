using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// Crash test of issue 5: kill -9 the service mid-ingest, restart it, finish the ingest (retrying with the
/// same request ids) — the cohort answers equal those of a clean run on the same records: nobody lost, nobody
/// counted twice.
/// </summary>
public sealed class CohortCrashTests
{
    private static readonly List<SyntheticParticipant> Cohort = [.. SyntheticCohort.Generate(11, new SyntheticCohortOptions { Eligible = 400, AlternativeUnitFraction = 0.3 })];

    [Fact]
    public async Task Kill9MidIngest_RestartAndFinish_AnswersEqualCleanRun()
    {
        var crashed = Directory.CreateTempSubdirectory("homabone-cohort-crash-").FullName;
        await using (var first = new ServiceProcess(crashed))
        {
            await first.StartAsync();
            await CreateCohortAsync(first);
            await ImportAsync(first, Cohort.Take(Cohort.Count / 2));
            // Killed once the first batch of an open import stream is answered, while the next one is being imported
            // (a fixed delay no longer lands mid-ingest: the whole import can finish within it).
            var firstAnswer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var inFlight = ImportAsync(first, Cohort.Skip(Cohort.Count / 2).Take(300), firstAnswer);
            await firstAnswer.Task.WaitAsync(TimeSpan.FromSeconds(60));
            first.Kill();
            await Assert.ThrowsAnyAsync<Exception>(() => inFlight);
        }

        await using var restarted = new ServiceProcess(crashed);
        await restarted.StartAsync();
        await ImportAsync(restarted, Cohort);
        var afterCrash = await AnswersAsync(restarted);

        await using var clean = new ServiceProcess();
        await clean.StartAsync();
        await CreateCohortAsync(clean);
        await ImportAsync(clean, Cohort);
        var reference = await AnswersAsync(clean);

        Assert.Equal(Cohort.Count, afterCrash.Flow.Enrolled);
        Assert.Equal(reference.Flow.Enrolled, afterCrash.Flow.Enrolled);
        Assert.Equal(reference.Flow.Analysed, afterCrash.Flow.Analysed);
        Assert.Equal(reference.Flow.Steps, afterCrash.Flow.Steps);
        Assert.Equal(reference.Quartiles.CutPoints, afterCrash.Quartiles.CutPoints);
        Assert.Equal(reference.Quartiles.Groups, afterCrash.Quartiles.Groups);
        Assert.Equal(reference.Associations.Fits, afterCrash.Associations.Fits);
        Assert.Equal(reference.Characteristics.Rows, afterCrash.Characteristics.Rows);
    }

    private static async Task CreateCohortAsync(ServiceProcess service)
    {
        var cohorts = new CohortService.CohortServiceClient(service.CreateChannel());
        await cohorts.CreateCohortAsync(new CreateCohortRequest
        {
            CohortId = "crash-cohort",
            Cohort = new Cohort { Settings = new CohortSettings { Disclosure = new DisclosureSettings { MinChangesPerVersion = 1 } } },
        });
    }

    /// <summary>Imports in batches of 100; with <paramref name="firstAnswer"/>, signals it and keeps the stream open.</summary>
    private static async Task ImportAsync(ServiceProcess service, IEnumerable<SyntheticParticipant> participants, TaskCompletionSource? firstAnswer = null)
    {
        var client = new ParticipantService.ParticipantServiceClient(service.CreateChannel());
        using var call = client.ImportParticipants();
        var reading = Task.Run(async () =>
        {
            var results = new List<ImportResult>();
            await foreach (var response in call.ResponseStream.ReadAllAsync())
            {
                results.AddRange(response.Results);
                firstAnswer?.TrySetResult();
            }

            return results;
        });
        foreach (var batch in participants.Chunk(100))
        {
            var request = new ImportParticipantsRequest { Parent = "cohorts/crash-cohort" };
            request.Entries.AddRange(batch.Select(p => new ImportEntry { ParticipantId = p.ParticipantId, Record = ParticipantMapping.FromDomain(p.Record), RequestId = "import-" + p.ParticipantId }));
            await call.RequestStream.WriteAsync(request);
        }

        if (firstAnswer is null)
        {
            await call.RequestStream.CompleteAsync();
        }
        var all = await reading;
        Assert.All(all, r => Assert.Equal(0, r.Status.Code));
    }

    private static async Task<(GetFlowResponse Flow, GetQuartilesResponse Quartiles, GetAssociationsResponse Associations, GetCharacteristicsResponse Characteristics)> AnswersAsync(ServiceProcess service)
    {
        var cohorts = new CohortService.CohortServiceClient(service.CreateChannel());
        const string name = "cohorts/crash-cohort";
        var flow = await cohorts.GetFlowAsync(new GetFlowRequest { Name = name });
        var quartiles = await cohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = name });
        var associations = await cohorts.GetAssociationsAsync(new GetAssociationsRequest { Name = name, Models = { "model 1" } });
        var characteristics = await cohorts.GetCharacteristicsAsync(new GetCharacteristicsRequest { Name = name });
        return (flow, quartiles, associations, characteristics);
    }
}
