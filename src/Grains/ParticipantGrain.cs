using Google.Protobuf;
using HomaBone.Contracts.V1;
using HomaBone.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace HomaBone.Grains;

/// <summary>
/// Owns one participant's record. A write is validated, derived, persisted (one durable revision, with its
/// request id and an outbox entry, in one transaction) and only then acknowledged. The stored payload is the
/// whole homabone.v1.Participant of that revision, so as-of reads return the bytes answered then.
/// </summary>
public sealed partial class ParticipantGrain(
    IRecordStore store,
    IParticipantDeriver deriver,
    TimeProvider time,
    IOptions<ParticipantGrainOptions> options,
    ILogger<ParticipantGrain> logger) : Grain, IParticipantGrain
{
    /// <summary>Number of cohort shards a participant's analysis row is routed to.</summary>
    public const int ShardCount = 16;

    private string _cohortId = string.Empty;
    private string _participantId = string.Empty;
    private StoredRevision? _current;
    private CohortSettings? _settings;

    // _current is authoritative only when it is not null: the bulk import worker may store revision 1 of a
    // participant the store had no row for without this grain (see docs/decisions/0003), so "absent" is always
    // checked against the store before an answer rests on it, and an unconditional write that finds the
    // participant created meanwhile is applied to the new current revision.

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_cohortId, _participantId) = ParticipantKey.Parse(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<GrainReply> UpsertAsync(UpsertParticipantCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        await EnsureLoadedAsync();
        return await UpsertOrRetryAsync(command.Record, command.RequestId, command.Etag);
    }

    /// <inheritdoc />
    public async Task<GrainReply> ImportAsync(ImportParticipantCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        try
        {
            if (_settings is null && command.Settings.Length > 0)
            {
                _settings = CohortSettings.Parser.ParseFrom(command.Settings);
            }

            await EnsureLoadedAsync();
            return await UpsertOrRetryAsync(command.Record, command.RequestId, string.Empty);
        }
        finally
        {
            if (options.Value.DeactivateAfterImport)
            {
                // A bulk import touches each participant once: keeping every activation until idle collection held
                // about 9 GB at 1M participants. The next call reactivates it from the store.
                DeactivateOnIdle();
            }
        }
    }

    private async Task<GrainReply> UpsertOrRetryAsync(byte[] encodedRecord, string requestId, string etag)
    {
        var wasAbsent = _current is null;
        var reply = await UpsertCoreAsync(encodedRecord, requestId, etag);
        if (wasAbsent && etag.Length == 0 && reply.Status == ReplyStatus.Aborted)
        {
            // The participant was stored after this activation found it absent (by the import worker): the
            // refused write reloaded the current revision, and an unconditional upsert applies to it.
            reply = await UpsertCoreAsync(encodedRecord, requestId, etag);
        }

        return reply;
    }

    private async Task<GrainReply> UpsertCoreAsync(byte[] encodedRecord, string requestId, string etag)
    {
        var record = ParticipantWrites.TryParse(encodedRecord, out var failure);
        if (record is null)
        {
            return failure!;
        }

        var settings = await LoadSettingsAsync();
        if (settings is null)
        {
            return GrainReply.Fail(ReplyStatus.NotFound, $"cohort '{_cohortId}' does not exist");
        }

        var derivation = ParticipantWrites.TryDerive(record, settings, deriver, out failure);
        if (derivation is null)
        {
            return failure!;
        }

        if (_current is { State: StoredParticipantState.Withdrawn } && !await IsDuplicateAsync(requestId))
        {
            return GrainReply.Fail(ReplyStatus.FailedPrecondition, "the participant is withdrawn; a withdrawn record cannot be changed");
        }

        return await WriteAsync(derivation.Record, derivation.Derived, derivation.Eligibility, ParticipantState.Active, requestId, etag);
    }

    /// <inheritdoc />
    public async Task<GrainReply> GetAsync(long revision)
    {
        await EnsureLoadedAsync();
        if (_current is null)
        {
            return GrainReply.Fail(ReplyStatus.NotFound, "participant not found");
        }

        if (revision == 0 || revision == _current.Revision)
        {
            return GrainReply.Ok(_current.Payload);
        }

        var stored = revision > 0 && revision < _current.Revision
            ? await store.GetRevisionAsync(_cohortId, _participantId, revision)
            : null;
        return stored is null
            ? GrainReply.Fail(ReplyStatus.NotFound, $"revision {revision} does not exist (current revision is {_current.Revision})")
            : GrainReply.Ok(stored.Payload);
    }

    /// <inheritdoc />
    public async Task<GrainReply> WithdrawAsync(WithdrawParticipantCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        await EnsureLoadedAsync();
        if (_current is null)
        {
            return GrainReply.Fail(ReplyStatus.NotFound, "participant not found");
        }

        if (_current.State == StoredParticipantState.Withdrawn)
        {
            // Withdrawing twice changes nothing; the answer is the withdrawn record.
            return GrainReply.Ok(_current.Payload);
        }

        await LoadSettingsAsync();
        var participant = Participant.Parser.ParseFrom(_current.Payload);
        return await WriteAsync(participant.Record, participant.Derived, participant.Eligibility, ParticipantState.Withdrawn, command.RequestId, command.Etag);
    }

    private async Task<GrainReply> WriteAsync(ParticipantRecord record, DerivedValues derived, Eligibility eligibility, ParticipantState state, string requestId, string etag)
    {
        var currentRevision = _current?.Revision ?? 0;

        // An etag mismatch is still sent to the store with an impossible expected revision: the store answers
        // Duplicate when the request id was already applied (a retry after success), Conflict otherwise.
        var etagMatches = etag.Length == 0 || (_current is not null && string.Equals(_current.Etag, etag, StringComparison.Ordinal));
        var expected = etagMatches ? currentRevision : -1;
        var now = time.GetUtcNow();
        var revision = currentRevision + 1;
        var participant = ParticipantWrites.Build(_cohortId, _participantId, record, derived, eligibility, state, revision, now, _current is null ? null : Participant.Parser.ParseFrom(_current.Payload).CreateTime);
        var newEtag = participant.Etag;
        var payload = participant.ToByteArray();
        var storedState = state == ParticipantState.Withdrawn ? StoredParticipantState.Withdrawn : StoredParticipantState.Active;
        var write = new RevisionWrite(_cohortId, _participantId, expected, requestId, storedState, newEtag, payload, ResourceNames.ShardOf(_participantId, ShardCount), now);
        var outcome = (await store.WriteAsync([write]))[0];
        switch (outcome.Status)
        {
            case WriteStatus.Stored:
                _current = new StoredRevision(_cohortId, _participantId, revision, storedState, newEtag, payload, _current?.CreateTime ?? now, now) { Seq = outcome.Seq };
                LogStored(logger, revision);
                await DeliverAsync(participant, outcome.Seq, write.Shard, revision);
                return GrainReply.Ok(payload, created: revision == 1);
            case WriteStatus.Duplicate:
                if (_current is null)
                {
                    // Written while the participant looked absent (the import worker stored it meanwhile): learn its revision.
                    await ReloadAsync();
                }

                var first = outcome.Revision == _current?.Revision ? _current : await store.GetRevisionAsync(_cohortId, _participantId, outcome.Revision);
                return first is null
                    ? GrainReply.Fail(ReplyStatus.FailedPrecondition, "the request id was used for a revision that no longer exists")
                    : GrainReply.Ok(first.Payload, created: outcome.Revision == 1);
            default:
                // Someone else wrote (for example a duplicate activation during a membership change, or the
                // participant was stored after an import worker found it absent): reload.
                await ReloadAsync();
                return GrainReply.Fail(ReplyStatus.Aborted, etagMatches
                    ? "the participant was changed concurrently; read it again and retry with its etag"
                    : "the etag does not match the participant's current revision; read it again and retry with its etag");
        }
    }

    /// <summary>
    /// Hands the new analysis row to the cohort shard, then acknowledges the outbox entry. A failure leaves the
    /// entry pending: the cohort grain drains the outbox before it publishes a version (at-least-once; the
    /// shard applies rows idempotently by revision). The write is already durable and is acknowledged anyway.
    /// </summary>
    private async Task DeliverAsync(Participant participant, long seq, int shard, long revision)
    {
        try
        {
            var row = AnalysisRows.FromParticipant(participant, _participantId, seq, _settings ?? new CohortSettings());
            await GrainFactory.GetGrain<ICohortShardGrain>(ShardKey.For(_cohortId, shard)).ApplyAsync(row);
            await store.AcknowledgeOutboxAsync([new OutboxEntry(_cohortId, _participantId, revision, shard)]);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or InvalidOperationException)
        {
            LogDeliveryDeferred(logger, ex.GetType().Name);
        }
    }

    private async Task<bool> IsDuplicateAsync(string requestId)
    {
        // A read of the request log (it used to be a probe write through the store's single writer).
        return requestId.Length > 0 && _current is not null
            && await store.FindRequestAsync(_cohortId, _participantId, requestId) is not null;
    }

    private async Task EnsureLoadedAsync()
    {
        if (_current is null)
        {
            await ReloadAsync();
        }
    }

    private async Task ReloadAsync() => _current = await store.GetCurrentAsync(_cohortId, _participantId);

    private async Task<CohortSettings?> LoadSettingsAsync()
    {
        if (_settings is not null)
        {
            return _settings;
        }

        // The settings come from the store (a point read), not from ICohortGrain.GetAsync: that answer carries the
        // cohort's participant count, a scan of the whole cohort, and every new participant activation asked for it
        // through the one cohort activation, which made bulk ingest quadratic and serialised.
        var stored = await store.GetCohortAsync(_cohortId);
        if (stored is null)
        {
            return null;
        }

        _settings = Cohort.Parser.ParseFrom(stored.Payload).Settings ?? new CohortSettings();
        return _settings;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Analysis row delivery deferred to the outbox ({ExceptionType})")]
    private static partial void LogDeliveryDeferred(ILogger logger, string exceptionType);

    // Logs carry no participant identifier and no health value: only the revision number.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Participant revision {Revision} stored")]
    private static partial void LogStored(ILogger logger, long revision);
}
