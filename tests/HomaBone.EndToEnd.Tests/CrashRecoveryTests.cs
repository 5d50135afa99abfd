using HomaBone.Contracts.V1;

namespace HomaBone.EndToEnd.Tests;

/// <summary>Acknowledged writes survive kill -9 of the one-command service.</summary>
public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task UpsertParticipant_ThenKill9AndRestart_ReadsBackUnchanged()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("homabone-crash-").FullName;
        Participant acknowledged;
        Cohort cohort;
        await using (var first = new ServiceProcess(dataDirectory))
        {
            await first.StartAsync();
            var cohorts = new CohortService.CohortServiceClient(first.CreateChannel());
            var participants = new ParticipantService.ParticipantServiceClient(first.CreateChannel());
            cohort = (await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = "crash", Cohort = new Cohort { DisplayName = "crash test" } })).Cohort;
            acknowledged = (await participants.UpsertParticipantAsync(new UpsertParticipantRequest
            {
                Participant = new Participant { Name = "cohorts/crash/participants/p-1", Record = GrpcApiTests.SampleRecord(61) },
                RequestId = "r1",
            })).Participant;
            first.Kill();
            Assert.NotEqual(0, first.ExitCode);
        }

        await using var second = new ServiceProcess(dataDirectory);
        await second.StartAsync();
        var again = new ParticipantService.ParticipantServiceClient(second.CreateChannel());
        var read = (await again.GetParticipantAsync(new GetParticipantRequest { Name = "cohorts/crash/participants/p-1" })).Participant;
        Assert.Equal(acknowledged, read);
        var readCohort = (await new CohortService.CohortServiceClient(second.CreateChannel()).GetCohortAsync(new GetCohortRequest { Name = "cohorts/crash" })).Cohort;
        Assert.Equal(cohort.Settings, readCohort.Settings);
        Assert.Equal(1, readCohort.ParticipantCount);

        // The retried request after the crash is still recognised: same response, no new revision.
        var retried = (await again.UpsertParticipantAsync(new UpsertParticipantRequest
        {
            Participant = new Participant { Name = "cohorts/crash/participants/p-1", Record = GrpcApiTests.SampleRecord(61) },
            RequestId = "r1",
        })).Participant;
        Assert.Equal(acknowledged, retried);
    }

    [Fact]
    public async Task Sigterm_ShutsDownCleanly()
    {
        await using var service = new ServiceProcess();
        await service.StartAsync();
        await service.StopAsync();
        Assert.Equal(0, service.ExitCode);
    }
}
