using HomaBone.Contracts.V1;
using HomaBone.Gateway.Services;
using HomaBone.Hosting;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// Unit tests (no processes) of the gateway's early give-up of calls stranded on a silo gateway that the cluster
/// declared dead, and of which calls may then be answered UNAVAILABLE. The cluster fault test measures the effect.
/// </summary>
public sealed class LostGatewayGuardTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(100);

    private static LostGatewayGuard NewGuard() => new(new MembershipSettings { LostGatewayGrace = Grace });

    [Fact]
    public async Task ACallStillInFlightAGraceAfterAGatewayConnectionCloses_IsGivenUp()
    {
        var guard = NewGuard();
        var stranded = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watched = guard.Watch(stranded.Task);
        await Task.Delay(3 * Grace);
        Assert.False(watched.IsCompleted); // no loss yet: the call may take as long as Orleans lets it

        guard.NotifyGatewayCountChanged(currentNumberOfGateways: 2, previousNumberOfGateways: 3, connectionRecovered: false);
        await Assert.ThrowsAsync<SiloGatewayLostException>(() => watched);
        Assert.Equal(1, guard.Losses);

        // The abandoned call fails later (its response timeout): observed, not rethrown anywhere.
        stranded.SetException(new TimeoutException("Response did not arrive on time"));
    }

    [Fact]
    public async Task ACallThatFinishesWithinTheGrace_KeepsItsResult_AndItsOwnFailure()
    {
        var guard = NewGuard();
        var answering = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var failing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watched = guard.Watch(answering.Task);
        var watchedFailing = guard.Watch(failing.Task);
        guard.NotifyClusterConnectionLost();
        answering.SetResult(42);
        failing.SetException(new InvalidOperationException("the grain's own error"));
        Assert.Equal(42, await watched);
        await Assert.ThrowsAsync<InvalidOperationException>(() => watchedFailing);
    }

    [Fact]
    public async Task OnlyADropInTheGatewayCount_AndOnlyCallsInFlightThen_AreAffected()
    {
        var guard = NewGuard();
        guard.NotifyGatewayCountChanged(currentNumberOfGateways: 3, previousNumberOfGateways: 2, connectionRecovered: false);
        guard.NotifyGatewayCountChanged(currentNumberOfGateways: 1, previousNumberOfGateways: 0, connectionRecovered: true);
        Assert.Equal(0, guard.Losses);

        guard.NotifyGatewayCountChanged(currentNumberOfGateways: 1, previousNumberOfGateways: 2, connectionRecovered: false);
        var later = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var watched = guard.Watch(later.Task); // started after the loss: not given up
        await Task.Delay(3 * Grace);
        Assert.False(watched.IsCompleted);
        later.SetResult("answered");
        Assert.Equal("answered", await watched);

        var completed = Task.FromResult(5);
        Assert.Same(completed, guard.Watch(completed)); // a completed call is returned as it is
    }

    [Fact]
    public async Task ACoHostedGuard_PassesCallsThroughUnwatched()
    {
        var guard = new LostGatewayGuard(new MembershipSettings { LostGatewayGrace = Grace }, observesGateways: false);
        var pending = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.Same(pending.Task, guard.Watch(pending.Task));
        guard.NotifyClusterConnectionLost();
        await Task.Delay(3 * Grace);
        pending.SetResult(1);
        Assert.Equal(1, await guard.Watch(pending.Task));
    }

    [Theory]
    [InlineData("/homabone.v1.CohortService/GetAssociations", "", true)]
    [InlineData("/homabone.v1.ParticipantService/ListParticipants", "", true)]
    [InlineData("/homabone.v1.ParticipantService/UpsertParticipant", "upsert-1", true)]
    [InlineData("/homabone.v1.ParticipantService/UpsertParticipant", "", false)]
    public void AGivenUpCall_IsUnavailable_WhenItIsARead_OrAWriteDeduplicatedByItsRequestId(string method, string requestId, bool safe)
    {
        var lost = new SiloGatewayLostException();
        var request = new UpsertParticipantRequest { RequestId = requestId };
        var status = RepeatableCall.TimeoutStatus(lost, method, method.Contains("Upsert", StringComparison.Ordinal) ? request : new GetAssociationsRequest());
        Assert.Equal(safe, status?.StatusCode == Grpc.Core.StatusCode.Unavailable);
        Assert.Equal(safe ? RepeatableCall.LostGatewayDetail : null, status?.Detail);

        // Cohort writes are deduplicated by their request id (the store's request log): repeatable with one only.
        Assert.Null(RepeatableCall.TimeoutStatus(lost, "/homabone.v1.CohortService/UpdateCohort", new UpdateCohortRequest()));
        Assert.Equal(RepeatableCall.LostGatewayDetail, RepeatableCall.TimeoutStatus(lost, "/homabone.v1.CohortService/UpdateCohort", new UpdateCohortRequest { RequestId = "settings-2" })?.Detail);
    }
}
