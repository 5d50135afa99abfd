using Google.Protobuf;
using HomaBone.Contracts.V1;
using HomaBone.Storage;

namespace HomaBone.Grains.Tests;

/// <summary>
/// Cohort writes honour their request id (the proto's idempotency key): a create or update repeated after its answer
/// was lost answers the cohort as it is and changes nothing, durably (the key is in the store with the write); a
/// different or missing request id keeps ALREADY_EXISTS and the etag check.
/// </summary>
[Collection(SharedCluster.Name)]
public sealed class CohortRequestIdTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ARepeatedCreate_AnswersTheCohort_AnotherCreateIsAlreadyExists()
    {
        var id = ClusterFixture.NewId("rid");
        var grain = fixture.Grains.GetGrain<ICohortGrain>(id);
        var request = new Cohort { DisplayName = "first" }.ToByteArray();
        var first = await grain.CreateAsync(request, "create-1");
        Assert.Equal(ReplyStatus.Ok, first.Status);
        Assert.True(first.Created);

        var again = await grain.CreateAsync(request, "create-1");
        Assert.Equal(ReplyStatus.Ok, again.Status);
        Assert.Equal(Cohort.Parser.ParseFrom(first.Payload), Cohort.Parser.ParseFrom(again.Payload));
        Assert.Equal(ReplyStatus.AlreadyExists, (await grain.CreateAsync(request, "create-2")).Status);
        Assert.Equal(ReplyStatus.AlreadyExists, (await grain.CreateAsync(request)).Status);

        // The key went to the store with the cohort (a new activation, or another silo, answers the same).
        await using var store = new SqliteRecordStore(fixture.DatabasePath);
        Assert.NotNull(await store.FindRequestAsync(id, string.Empty, "cohort-create:create-1"));
        Assert.Null(await store.FindRequestAsync(id, string.Empty, "cohort-create:create-2"));
    }

    [Fact]
    public async Task ARepeatedUpdate_IsNotAppliedAgain_EvenWithItsNowStaleEtag_AnotherIsAborted()
    {
        var id = ClusterFixture.NewId("rid");
        var grain = fixture.Grains.GetGrain<ICohortGrain>(id);
        var created = Cohort.Parser.ParseFrom((await grain.CreateAsync(new Cohort { DisplayName = "v1" }.ToByteArray())).Payload);
        var update = new Cohort { Name = created.Name, DisplayName = "v2", Etag = created.Etag }.ToByteArray();

        var applied = await grain.UpdateAsync(update, ["display_name"], "update-1");
        Assert.Equal(ReplyStatus.Ok, applied.Status);
        Assert.Equal("v2", Cohort.Parser.ParseFrom(applied.Payload).DisplayName);

        // Someone else changes the cohort; then the first update is sent again (its answer was lost).
        var other = Cohort.Parser.ParseFrom((await grain.UpdateAsync(new Cohort { Name = created.Name, DisplayName = "v3" }.ToByteArray(), ["display_name"])).Payload);
        var repeated = await grain.UpdateAsync(update, ["display_name"], "update-1");
        Assert.Equal(ReplyStatus.Ok, repeated.Status);
        var now = Cohort.Parser.ParseFrom(repeated.Payload);
        Assert.Equal("v3", now.DisplayName); // not applied again over the later change
        Assert.Equal(other.Etag, now.Etag);

        // Another request id with the stale etag is the etag check's ABORTED, as before.
        Assert.Equal(ReplyStatus.Aborted, (await grain.UpdateAsync(update, ["display_name"], "update-2")).Status);
        Assert.Equal(ReplyStatus.Aborted, (await grain.UpdateAsync(update, ["display_name"])).Status);

        // A create's key does not answer an update, nor the reverse.
        Assert.Equal(ReplyStatus.AlreadyExists, (await grain.CreateAsync(new Cohort().ToByteArray(), "update-1")).Status);
    }
}
