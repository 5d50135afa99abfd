namespace HomaBone.Storage;

/// <summary>
/// The system of record. Every method that writes returns only after the write is durable (committed and
/// synced), so a caller may acknowledge it. Implementations: <see cref="SqliteRecordStore"/> (embedded
/// default); the cluster issue adds PostgreSQL.
/// </summary>
public interface IRecordStore
{
    /// <summary>Creates the schema if needed and applies migrations.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Gets a cohort, or null.</summary>
    Task<StoredCohort?> GetCohortAsync(string cohortId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Inserts a cohort; false if one with that id exists. A non-empty <paramref name="requestKey"/> is recorded in the
    /// request log under (cohort, "", key) in the same transaction (participant ids are never empty), so a retried
    /// create can be told from another one (<see cref="FindRequestAsync"/>).
    /// </summary>
    Task<bool> TryCreateCohortAsync(StoredCohort cohort, string requestKey = "", CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a cohort if its current etag is <paramref name="expectedEtag"/>; false otherwise. A non-empty
    /// <paramref name="requestKey"/> is recorded as for <see cref="TryCreateCohortAsync"/>, with the change.
    /// </summary>
    Task<bool> TryUpdateCohortAsync(StoredCohort cohort, string expectedEtag, string requestKey = "", CancellationToken cancellationToken = default);

    /// <summary>Gets the current revision of a participant, or null.</summary>
    Task<StoredRevision?> GetCurrentAsync(string cohortId, string participantId, CancellationToken cancellationToken = default);

    /// <summary>Gets one revision of a participant, or null.</summary>
    Task<StoredRevision?> GetRevisionAsync(string cohortId, string participantId, long revision, CancellationToken cancellationToken = default);

    /// <summary>The revision a request id produced for a participant, or null when it was never applied (a read).</summary>
    Task<long?> FindRequestAsync(string cohortId, string participantId, string requestId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The current revision of each of <paramref name="participantIds"/> that is stored (one query per few hundred
    /// ids); ids absent from the answer have no record. A bulk import uses it to spare never-seen participants a read.
    /// </summary>
    Task<IReadOnlyDictionary<string, long>> GetCurrentRevisionsAsync(string cohortId, IReadOnlyCollection<string> participantIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies a batch of writes. Each write is checked and applied independently (a conflict in one
    /// does not affect the others) but all are committed in one durable transaction (group commit). A batch is
    /// one unit of the group commit (one savepoint, one queue entry), so a caller with many records should pass
    /// them together rather than call once per record.
    /// </summary>
    Task<IReadOnlyList<WriteOutcome>> WriteAsync(IReadOnlyList<RevisionWrite> writes, CancellationToken cancellationToken = default);

    /// <summary>Lists current revisions in participant-id order after <paramref name="afterParticipantId"/>.</summary>
    Task<IReadOnlyList<StoredRevision>> ListCurrentAsync(string cohortId, string? afterParticipantId, int limit, bool includeWithdrawn, CancellationToken cancellationToken = default);

    /// <summary>Counts stored participants of a cohort by state.</summary>
    Task<(long Active, long Withdrawn)> CountAsync(string cohortId, CancellationToken cancellationToken = default);

    /// <summary>The cohort's latest change sequence number (0 when nothing was written).</summary>
    Task<long> CurrentSeqAsync(string cohortId, CancellationToken cancellationToken = default);

    /// <summary>Every revision of the cohort with a change sequence number in (<paramref name="afterSeq"/>, <paramref name="upToSeq"/>], in seq order.</summary>
    Task<IReadOnlyList<StoredRevision>> ListChangesAsync(string cohortId, long afterSeq, long upToSeq, CancellationToken cancellationToken = default);

    /// <summary>How many participants the cohort had as of change <paramref name="seq"/> (withdrawn ones included).</summary>
    Task<long> CountAsOfAsync(string cohortId, long seq, CancellationToken cancellationToken = default);

    /// <summary>
    /// The cohort as of change <paramref name="seq"/>: for every participant, its latest revision with a
    /// sequence number ≤ seq (withdrawn ones included), in participant-id order.
    /// </summary>
    Task<IReadOnlyList<StoredRevision>> ListAsOfAsync(string cohortId, long seq, CancellationToken cancellationToken = default);

    /// <summary>Current revisions of one shard of a cohort (withdrawn included).</summary>
    Task<IReadOnlyList<StoredRevision>> ListShardAsync(string cohortId, int shard, CancellationToken cancellationToken = default);

    /// <summary>Records a published version (idempotent).</summary>
    Task PublishVersionAsync(PublishedVersion version, CancellationToken cancellationToken = default);

    /// <summary>The published versions of a cohort, oldest first.</summary>
    Task<IReadOnlyList<PublishedVersion>> ListPublishedVersionsAsync(string cohortId, CancellationToken cancellationToken = default);

    /// <summary>Lists pending outbox entries of a cohort (oldest first).</summary>
    Task<IReadOnlyList<OutboxEntry>> PendingOutboxAsync(string cohortId, int limit, CancellationToken cancellationToken = default);

    /// <summary>Removes delivered outbox entries.</summary>
    Task AcknowledgeOutboxAsync(IReadOnlyList<OutboxEntry> entries, CancellationToken cancellationToken = default);
}
