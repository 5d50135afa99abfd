using HomaBone.Contracts.V1;

namespace HomaBone.EndToEnd.Tests;

/// <summary>Demo mode loads the synthetic cohort so a newcomer can query it at once.</summary>
public sealed class DemoModeTests
{
    [Fact]
    public async Task DemoMode_LoadsSyntheticCohort_WithThePapersFlowCounts()
    {
        await using var service = new ServiceProcess();
        await service.StartAsync("--HomaBone:Demo=true");
        var cohorts = new CohortService.CohortServiceClient(service.CreateChannel());
        var participants = new ParticipantService.ParticipantServiceClient(service.CreateChannel());
        var deadline = DateTime.UtcNow.AddMinutes(3);
        Cohort? cohort = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                cohort = (await cohorts.GetCohortAsync(new GetCohortRequest { Name = "cohorts/demo" })).Cohort;
                if (cohort.ParticipantCount == 2178)
                {
                    break;
                }
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.NotFound)
            {
            }

            await Task.Delay(500);
        }

        // 2,178 women screened in the paper's flow diagram (study.md), 1,008 analysed.
        Assert.Equal(2178, cohort?.ParticipantCount);
        var eligible = 0;
        var firstReasons = new Dictionary<ExclusionReason, int>();
        var token = string.Empty;
        do
        {
            var page = await participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = "cohorts/demo", PageSize = 1000, PageToken = token });
            foreach (var p in page.Participants)
            {
                if (p.Eligibility.Eligible)
                {
                    eligible++;
                    Assert.True(p.Derived.HomaIr.HasValue, "an eligible participant has a HOMA-IR");
                }
                else
                {
                    firstReasons[p.Eligibility.FirstReason] = firstReasons.GetValueOrDefault(p.Eligibility.FirstReason) + 1;
                }
            }

            token = page.NextPageToken;
        }
        while (token.Length > 0);
        Assert.Equal(1008, eligible);
        Assert.Equal(796, firstReasons[ExclusionReason.MenstrualFlowWithin12Months]);
        Assert.Equal(51, firstReasons[ExclusionReason.AgeUnder50]);
        Assert.Equal(123, firstReasons[ExclusionReason.Diabetes]);
        Assert.Equal(129, firstReasons[ExclusionReason.EstrogenReplacement]);
    }
}
