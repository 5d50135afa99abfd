using HomaBone.Contracts.V1;

namespace HomaBone.EndToEnd.Tests;

/// <summary>The same binaries as separate processes: a silo, and a gateway that is an Orleans client of it.</summary>
public sealed class SeparateProcessTests
{
    [Fact]
    public async Task GatewayAsOrleansClient_OfSeparateSilo_ServesWritesAndReads()
    {
        await using var silo = new ServiceProcess(project: "Silo");
        await silo.StartAsync();
        await using var gateway = new ServiceProcess(project: "Gateway");
        await gateway.StartAsync("--HomaBone:Mode=Gateway", $"--HomaBone:OrleansGatewayPort={silo.OrleansGatewayPort}");
        var cohorts = new CohortService.CohortServiceClient(gateway.CreateChannel());
        var participants = new ParticipantService.ParticipantServiceClient(gateway.CreateChannel());
        await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = "split" });
        var written = (await participants.UpsertParticipantAsync(new UpsertParticipantRequest
        {
            Participant = new Participant { Name = "cohorts/split/participants/p1", Record = GrpcApiTests.SampleRecord(63) },
            RequestId = "r1",
        })).Participant;
        Assert.Equal(1, written.Revision);

        // The record lives in the silo's store: a restarted gateway reads it back.
        await gateway.StopAsync();
        await using var gateway2 = new ServiceProcess(project: "Gateway");
        await gateway2.StartAsync("--HomaBone:Mode=Gateway", $"--HomaBone:OrleansGatewayPort={silo.OrleansGatewayPort}");
        var read = (await new ParticipantService.ParticipantServiceClient(gateway2.CreateChannel()).GetParticipantAsync(new GetParticipantRequest { Name = "cohorts/split/participants/p1" })).Participant;
        Assert.Equal(written, read);
    }
}
