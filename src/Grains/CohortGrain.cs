using System.Security.Cryptography;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using HomaBone.Contracts.V1;
using HomaBone.Storage;

namespace HomaBone.Grains;

/// <summary>
/// A cohort's settings, stored durably as a protobuf homabone.v1.Cohort. The live analysis (shards, versions,
/// the study's tables) is added by the cohort-analysis issue.
/// </summary>
public sealed partial class CohortGrain(IRecordStore store, TimeProvider time, Microsoft.Extensions.Logging.ILogger<CohortGrain> logger) : Grain, ICohortGrain
{
    private static readonly HashSet<string> UpdatableRoots = ["display_name", "settings"];

    private StoredCohort? _stored;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stored = await store.GetCohortAsync(this.GetPrimaryKeyString(), cancellationToken);
        if (_stored is not null)
        {
            await LoadVersionsAsync();
        }
    }

    /// <inheritdoc />
    public async Task<GrainReply> CreateAsync(byte[] cohort, string requestId = "")
    {
        ArgumentNullException.ThrowIfNull(requestId);
        var id = this.GetPrimaryKeyString();
        if (_stored is not null)
        {
            return await RepeatedAsync(CreateKey(requestId))
                ? GrainReply.Ok(await WithCountsAsync(Cohort.Parser.ParseFrom(_stored.Payload)))
                : GrainReply.Fail(ReplyStatus.AlreadyExists, $"cohort '{id}' already exists");
        }

        Cohort requested;
        try
        {
            requested = Cohort.Parser.ParseFrom(cohort);
        }
        catch (InvalidProtocolBufferException)
        {
            return GrainReply.Fail(ReplyStatus.InvalidArgument, "not a valid homabone.v1.Cohort", [new FieldViolation("cohort", "is not a valid encoded message")]);
        }

        var now = time.GetUtcNow();
        var created = new Cohort
        {
            Name = ResourceNames.Cohort(id),
            DisplayName = requested.DisplayName,
            Settings = CohortDefaults.Apply(requested.Settings ?? new CohortSettings()),
            CreateTime = Timestamp.FromDateTimeOffset(now),
            UpdateTime = Timestamp.FromDateTimeOffset(now),
        };
        var violations = CohortDefaults.Validate(created.Settings, "cohort.settings");
        if (created.DisplayName.Length > 200)
        {
            violations.Add(new FieldViolation("cohort.display_name", "must be at most 200 characters"));
        }

        if (violations.Count > 0)
        {
            return GrainReply.Fail(ReplyStatus.InvalidArgument, "the cohort is invalid", violations);
        }

        created.Etag = NewEtag();
        var row = new StoredCohort(id, created.ToByteArray(), created.Etag, now, now);
        if (!await store.TryCreateCohortAsync(row, CreateKey(requestId)))
        {
            _stored = await store.GetCohortAsync(id);
            return _stored is not null && await RepeatedAsync(CreateKey(requestId))
                ? GrainReply.Ok(await WithCountsAsync(Cohort.Parser.ParseFrom(_stored.Payload)))
                : GrainReply.Fail(ReplyStatus.AlreadyExists, $"cohort '{id}' already exists");
        }

        _stored = row;
        return GrainReply.Ok(await WithCountsAsync(created), created: true);
    }

    /// <inheritdoc />
    public async Task<GrainReply> GetAsync()
    {
        if (_stored is null)
        {
            return GrainReply.Fail(ReplyStatus.NotFound, $"cohort '{this.GetPrimaryKeyString()}' does not exist");
        }

        return GrainReply.Ok(await WithCountsAsync(Cohort.Parser.ParseFrom(_stored.Payload)));
    }

    /// <inheritdoc />
    public async Task<GrainReply> UpdateAsync(byte[] cohort, IReadOnlyList<string> updateMask, string requestId = "")
    {
        ArgumentNullException.ThrowIfNull(updateMask);
        ArgumentNullException.ThrowIfNull(requestId);
        if (_stored is null)
        {
            return GrainReply.Fail(ReplyStatus.NotFound, $"cohort '{this.GetPrimaryKeyString()}' does not exist");
        }

        if (await RepeatedAsync(UpdateKey(requestId)))
        {
            // Applied before (its answer was lost): not again, whatever the etag now is.
            return GrainReply.Ok(await WithCountsAsync(Cohort.Parser.ParseFrom(_stored.Payload)));
        }

        var patch = Cohort.Parser.ParseFrom(cohort);
        var current = Cohort.Parser.ParseFrom(_stored.Payload);
        if (patch.Etag.Length > 0 && patch.Etag != current.Etag)
        {
            return GrainReply.Fail(ReplyStatus.Aborted, "the etag does not match the cohort's current settings; read it again and retry");
        }

        var violations = new List<FieldViolation>();
        var mask = new FieldMask();
        foreach (var path in updateMask)
        {
            var root = path.Split('.')[0];
            if (!UpdatableRoots.Contains(root))
            {
                violations.Add(new FieldViolation("update_mask", $"'{path}' cannot be updated (updatable: display_name, settings and its fields)"));
            }
            else
            {
                mask.Paths.Add(path);
            }
        }

        if (mask.Paths.Count == 0 && violations.Count == 0)
        {
            violations.Add(new FieldViolation("update_mask", "must name at least one field"));
        }

        if (violations.Count == 0 && !FieldMask.IsValid(Cohort.Descriptor, mask))
        {
            violations.Add(new FieldViolation("update_mask", "names a field that does not exist in homabone.v1.Cohort"));
        }

        if (violations.Count > 0)
        {
            return GrainReply.Fail(ReplyStatus.InvalidArgument, "the update mask is invalid", violations);
        }

        var updated = current.Clone();
        mask.Merge(patch, updated, new FieldMask.MergeOptions { ReplaceRepeatedFields = true, ReplaceMessageFields = true });
        updated.Settings = CohortDefaults.Apply(updated.Settings ?? new CohortSettings());
        violations.AddRange(CohortDefaults.Validate(updated.Settings, "cohort.settings"));
        if (violations.Count > 0)
        {
            return GrainReply.Fail(ReplyStatus.InvalidArgument, "the cohort settings are invalid", violations);
        }

        var now = time.GetUtcNow();
        updated.UpdateTime = Timestamp.FromDateTimeOffset(now);
        updated.Etag = NewEtag();
        var row = new StoredCohort(_stored.CohortId, updated.ToByteArray(), updated.Etag, _stored.CreateTime, now);
        if (!await store.TryUpdateCohortAsync(row, _stored.Etag, UpdateKey(requestId)))
        {
            _stored = await store.GetCohortAsync(_stored.CohortId);
            return GrainReply.Fail(ReplyStatus.Aborted, "the cohort was changed concurrently; read it again and retry");
        }

        _stored = row;
        return GrainReply.Ok(await WithCountsAsync(updated));
    }

    /// <inheritdoc />
    public async Task<ParticipantPage> ListParticipantsAsync(string afterParticipantId, int limit, bool includeWithdrawn)
    {
        var rows = await store.ListCurrentAsync(this.GetPrimaryKeyString(), afterParticipantId, limit + 1, includeWithdrawn);
        var more = rows.Count > limit;
        var page = rows.Take(limit).Select(r => r.Payload).ToList();
        return new ParticipantPage(page, more ? rows[limit - 1].ParticipantId : null);
    }

    /// <inheritdoc />
    public Task<bool> ExistsAsync() => Task.FromResult(_stored is not null);

    // A cohort write's request id in the store's request log (participant id "", which no participant has); creates
    // and updates have separate keys, so a client that reused an id across the two is not answered the wrong one.
    private static string CreateKey(string requestId) => requestId.Length == 0 ? string.Empty : "cohort-create:" + requestId;

    private static string UpdateKey(string requestId) => requestId.Length == 0 ? string.Empty : "cohort-update:" + requestId;

    private async Task<bool> RepeatedAsync(string requestKey) =>
        requestKey.Length > 0 && await store.FindRequestAsync(this.GetPrimaryKeyString(), string.Empty, requestKey) is not null;

    private async Task<byte[]> WithCountsAsync(Cohort cohort)
    {
        var (active, _) = await store.CountAsync(_stored!.CohortId);
        cohort.ParticipantCount = active;
        return cohort.ToByteArray();
    }

    private static string NewEtag() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
