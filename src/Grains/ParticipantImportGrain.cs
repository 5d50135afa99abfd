using Google.Protobuf;
using HomaBone.Contracts.V1;
using HomaBone.Storage;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace HomaBone.Grains;

/// <summary>
/// The bulk import worker (see <see cref="IParticipantImportGrain"/> and docs/decisions/0003). Stateless and
/// reentrant: it holds nothing between calls, so one activation serves every import stream of its silo.
/// </summary>
/// <remarks>
/// The first record of a participant the store has no row for is written here, in one store batch with the
/// batch's other new participants (revision 1, expected current revision 0, request id and outbox entry in the
/// same transaction), then its analysis row is handed to the cohort shard. Every other record (an existing
/// participant, a second record of one participant in the batch, a write the store refused because the
/// participant appeared meanwhile) goes through the participant grain.
/// </remarks>
[StatelessWorker]
[Reentrant]
public sealed partial class ParticipantImportGrain(
    IRecordStore store,
    IParticipantDeriver deriver,
    TimeProvider time,
    ILogger<ParticipantImportGrain> logger) : Grain, IParticipantImportGrain
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<GrainReply?>> ImportAsync(string cohortId, IReadOnlyList<ImportItem> items)
    {
        ArgumentNullException.ThrowIfNull(cohortId);
        ArgumentNullException.ThrowIfNull(items);
        var replies = new GrainReply?[items.Count];
        if (items.Count == 0)
        {
            return replies;
        }

        var cohort = await store.GetCohortAsync(cohortId);
        if (cohort is null)
        {
            Array.Fill(replies, GrainReply.Fail(ReplyStatus.NotFound, $"cohort '{cohortId}' does not exist"));
            return replies;
        }

        var settings = Cohort.Parser.ParseFrom(cohort.Payload).Settings ?? new CohortSettings();
        var encodedSettings = settings.ToByteArray();

        // Records of one participant in the order given, participants concurrently.
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            if (!groups.TryGetValue(items[i].ParticipantId, out var indices))
            {
                groups[items[i].ParticipantId] = indices = [];
            }

            indices.Add(i);
        }

        var existing = await store.GetCurrentRevisionsAsync(cohortId, groups.Keys);

        // Index of the first record still to be applied, per participant (by the grain, after the direct writes).
        var next = groups.ToDictionary(g => g.Key, _ => 0, StringComparer.Ordinal);
        var absent = groups.Where(g => !existing.ContainsKey(g.Key)).Select(g => (ParticipantId: g.Key, Index: g.Value[0])).ToList();
        foreach (var (participantId, index) in await WriteNewAsync(cohortId, settings, items, absent, replies))
        {
            // Applied (or answered) directly: the participant's later records go through its grain.
            next[participantId] = 1;
        }

        await Task.WhenAll(groups.Select(g => ThroughGrainAsync(g.Key, g.Value, next[g.Key])));
        return replies;

        async Task ThroughGrainAsync(string participantId, List<int> indices, int from)
        {
            if (from >= indices.Count)
            {
                return;
            }

            var grain = GrainFactory.GetGrain<IParticipantGrain>(ParticipantKey.For(cohortId, participantId));
            for (var k = from; k < indices.Count; k++)
            {
                var item = items[indices[k]];
                try
                {
                    replies[indices[k]] = await grain.ImportAsync(new ImportParticipantCommand(item.Record, item.RequestId, encodedSettings));
                }
                catch (Exception ex) when (ex is TimeoutException or OrleansException)
                {
                    // Outcome unknown (null: retry with the same request id); the participant's later records are
                    // not applied after it, so a retry cannot reorder them.
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Writes revision 1 of participants the store had no row for, in one store batch; returns those answered here
    /// (stored, invalid, or a retried request id). Those the store refused (created meanwhile) are left to the grain.
    /// </summary>
    private async Task<List<(string ParticipantId, int Index)>> WriteNewAsync(string cohortId, CohortSettings settings, IReadOnlyList<ImportItem> items, List<(string ParticipantId, int Index)> candidates, GrainReply?[] replies)
    {
        var answered = new List<(string, int)>(candidates.Count);
        var pending = new List<(string ParticipantId, int Index, Participant Participant, RevisionWrite Write)>(candidates.Count);
        var now = time.GetUtcNow();
        foreach (var (participantId, index) in candidates)
        {
            var item = items[index];
            var record = ParticipantWrites.TryParse(item.Record, out var failure);
            var derivation = record is null ? null : ParticipantWrites.TryDerive(record, settings, deriver, out failure);
            if (derivation is null)
            {
                replies[index] = failure;
                answered.Add((participantId, index));
                continue;
            }

            var participant = ParticipantWrites.Build(cohortId, participantId, derivation.Record, derivation.Derived, derivation.Eligibility, ParticipantState.Active, 1, now, null);
            var shard = ResourceNames.ShardOf(participantId, ParticipantGrain.ShardCount);
            pending.Add((participantId, index, participant, new RevisionWrite(cohortId, participantId, 0, item.RequestId, StoredParticipantState.Active, participant.Etag, participant.ToByteArray(), shard, now)));
        }

        if (pending.Count == 0)
        {
            return answered;
        }

        IReadOnlyList<WriteOutcome> outcomes;
        try
        {
            // One unit of the store's group commit: durable (synchronous=FULL) when this returns.
            outcomes = await store.WriteAsync([.. pending.Select(p => p.Write)]);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The batch shares one savepoint: when it fails as a whole, each record is retried alone through its
            // grain (its own savepoint), so one bad write cannot fail the others.
            LogBatchWriteFailed(logger, ex.GetType().Name, pending.Count);
            return answered;
        }

        var delivered = new List<(Participant Participant, string ParticipantId, WriteOutcome Outcome, int Shard)>(pending.Count);
        for (var k = 0; k < pending.Count; k++)
        {
            var (participantId, index, participant, write) = pending[k];
            var outcome = outcomes[k];
            switch (outcome.Status)
            {
                case WriteStatus.Stored:
                    replies[index] = GrainReply.Ok(write.Payload, created: true);
                    delivered.Add((participant, participantId, outcome, write.Shard));
                    answered.Add((participantId, index));
                    break;
                case WriteStatus.Duplicate:
                    // A retried batch: answer with the revision the request id produced first (as the grain does).
                    var first = await store.GetRevisionAsync(cohortId, participantId, outcome.Revision);
                    replies[index] = first is null
                        ? GrainReply.Fail(ReplyStatus.FailedPrecondition, "the request id was used for a revision that no longer exists")
                        : GrainReply.Ok(first.Payload, created: outcome.Revision == 1);
                    answered.Add((participantId, index));
                    break;
                default:
                    // Stored since the existence read: the participant grain applies it to the current revision.
                    break;
            }
        }

        await DeliverAsync(cohortId, settings, delivered);
        return answered;
    }

    /// <summary>
    /// Hands the new analysis rows to their cohort shards, then acknowledges the delivered outbox entries in one
    /// store call. A failure leaves an entry pending for the cohort grain's outbox drain (at-least-once; shards apply
    /// rows idempotently by revision), exactly as a participant grain's delivery does.
    /// </summary>
    private async Task DeliverAsync(string cohortId, CohortSettings settings, List<(Participant Participant, string ParticipantId, WriteOutcome Outcome, int Shard)> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }

        // One call per shard with that shard's rows, in the batch's order.
        var acknowledged = new List<OutboxEntry>[ParticipantGrain.ShardCount];
        await Task.WhenAll(rows.GroupBy(r => r.Shard).Select(async group =>
        {
            try
            {
                var shardRows = group.Select(r => AnalysisRows.FromParticipant(r.Participant, r.ParticipantId, r.Outcome.Seq, settings)).ToList();
                await GrainFactory.GetGrain<ICohortShardGrain>(ShardKey.For(cohortId, group.Key)).ApplyBatchAsync(shardRows);
                acknowledged[group.Key] = [.. group.Select(r => new OutboxEntry(cohortId, r.ParticipantId, r.Outcome.Revision, r.Shard))];
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException or InvalidOperationException)
            {
                LogDeliveryDeferred(logger, ex.GetType().Name);
            }
        }));

        // The acknowledgement is not awaited: the records are durable and delivered, and an entry left pending only
        // means the cohort grain's drain delivers it once more (idempotent). Waiting would add a second commit's
        // latency to every batch.
        _ = AcknowledgeAsync([.. acknowledged.Where(a => a is not null).SelectMany(a => a)]);
    }

    private async Task AcknowledgeAsync(OutboxEntry[] entries)
    {
        try
        {
            await store.AcknowledgeOutboxAsync(entries);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogDeliveryDeferred(logger, ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import batch write of {Count} records failed ({ExceptionType}); retrying each through its participant grain")]
    private static partial void LogBatchWriteFailed(ILogger logger, string exceptionType, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Analysis row delivery deferred to the outbox ({ExceptionType})")]
    private static partial void LogDeliveryDeferred(ILogger logger, string exceptionType);
}
