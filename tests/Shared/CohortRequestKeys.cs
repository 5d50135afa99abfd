using HomaBone.Storage;
using Xunit;

namespace HomaBone.TestSupport;

/// <summary>
/// The store contract of a cohort write's request key (shared by the SQLite and PostgreSQL store tests): recorded with
/// the write in its transaction, only when the write is applied, under participant id "" (no participant's key).
/// </summary>
internal static class CohortRequestKeys
{
    public static async Task CheckAsync(IRecordStore store)
    {
        var id = "keys-" + Guid.NewGuid().ToString("n")[..8];
        var cohort = new StoredCohort(id, [1], "e1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
        Assert.True(await store.TryCreateCohortAsync(cohort, "cohort-create:a"));
        Assert.False(await store.TryCreateCohortAsync(cohort with { Payload = [9] }, "cohort-create:b"));
        Assert.False(await store.TryUpdateCohortAsync(cohort with { Payload = [2], Etag = "e2" }, "stale", "cohort-update:c"));
        Assert.True(await store.TryUpdateCohortAsync(cohort with { Payload = [2], Etag = "e2" }, "e1", "cohort-update:d"));
        Assert.True(await store.TryUpdateCohortAsync(cohort with { Payload = [3], Etag = "e3" }, "e2"));

        Assert.NotNull(await store.FindRequestAsync(id, string.Empty, "cohort-create:a"));
        Assert.Null(await store.FindRequestAsync(id, string.Empty, "cohort-create:b"));
        Assert.Null(await store.FindRequestAsync(id, string.Empty, "cohort-update:c"));
        Assert.NotNull(await store.FindRequestAsync(id, string.Empty, "cohort-update:d"));
        Assert.Null(await store.FindRequestAsync(id, "p1", "cohort-create:a"));
        Assert.Equal([3], (await store.GetCohortAsync(id))!.Payload);
    }
}
