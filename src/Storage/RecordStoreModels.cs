namespace HomaBone.Storage;

/// <summary>The lifecycle state stored with each participant revision.</summary>
public enum StoredParticipantState
{
    /// <summary>The record counts in analyses.</summary>
    Active = 1,

    /// <summary>The record is kept but leaves every statistic.</summary>
    Withdrawn = 2,
}

/// <summary>A cohort as stored: an opaque, versioned payload (protobuf homabone.v1.Cohort) plus its etag.</summary>
public sealed record StoredCohort(string CohortId, byte[] Payload, string Etag, DateTimeOffset CreateTime, DateTimeOffset UpdateTime);

/// <summary>One stored revision of a participant. <see cref="Payload"/> is the grain's versioned encoding.</summary>
public sealed record StoredRevision(
    string CohortId,
    string ParticipantId,
    long Revision,
    StoredParticipantState State,
    string Etag,
    byte[] Payload,
    DateTimeOffset CreateTime,
    DateTimeOffset UpdateTime)
{
    /// <summary>The cohort-wide change sequence number of this revision (1, 2, … per cohort).</summary>
    public long Seq { get; init; }
}

/// <summary>
/// A published cohort version: its number (1, 2, …), the change sequence number it includes, when its data last
/// changed, and the cohort settings it was computed with (protobuf CohortSettings), so as-of answers are exact.
/// </summary>
public sealed record PublishedVersion(string CohortId, long Version, long Seq, DateTimeOffset DataTime, DateTimeOffset PublishTime, byte[] Settings);

/// <summary>
/// A write of one new participant revision. It is applied only if the participant's current revision is
/// <see cref="ExpectedCurrentRevision"/> (0 = not yet stored) and <see cref="RequestId"/> was not seen before.
/// </summary>
public sealed record RevisionWrite(
    string CohortId,
    string ParticipantId,
    long ExpectedCurrentRevision,
    string RequestId,
    StoredParticipantState State,
    string Etag,
    byte[] Payload,
    int Shard,
    DateTimeOffset Time);

/// <summary>What happened to a <see cref="RevisionWrite"/>.</summary>
public enum WriteStatus
{
    /// <summary>Stored and durable.</summary>
    Stored,

    /// <summary>The request id was seen before; <see cref="WriteOutcome.Revision"/> is the revision it produced.</summary>
    Duplicate,

    /// <summary>The current revision differs from the expected one: nothing was written.</summary>
    Conflict,
}

/// <summary>The outcome of a <see cref="RevisionWrite"/>; <see cref="Seq"/> is the change sequence number when stored.</summary>
public sealed record WriteOutcome(WriteStatus Status, long Revision, long Seq = 0);

/// <summary>A pending hand-off of a participant revision to its cohort shard.</summary>
public sealed record OutboxEntry(string CohortId, string ParticipantId, long Revision, int Shard);
