namespace HomaBone.Grains;

/// <summary>A cohort: its settings and (later) its live analysis. Key: the cohort id.</summary>
[Alias("homabone.ICohortGrain")]
public interface ICohortGrain : IGrainWithStringKey
{
    /// <summary>
    /// Creates the cohort from a protobuf homabone.v1.Cohort. Reply payload: the stored Cohort. A repeat of a create
    /// that succeeded with the same non-empty <paramref name="requestId"/> answers the cohort as it is now, not
    /// ALREADY_EXISTS.
    /// </summary>
    [Alias("Create")]
    Task<GrainReply> CreateAsync(byte[] cohort, string requestId = "");

    /// <summary>Gets the cohort. Reply payload: homabone.v1.Cohort.</summary>
    [Alias("Get")]
    Task<GrainReply> GetAsync();

    /// <summary>
    /// Updates the fields named by <paramref name="updateMask"/>. Reply payload: homabone.v1.Cohort. A repeat of an
    /// update that was applied with the same non-empty <paramref name="requestId"/> is not applied again (its etag
    /// is not checked) and answers the cohort as it is now.
    /// </summary>
    [Alias("Update")]
    Task<GrainReply> UpdateAsync(byte[] cohort, IReadOnlyList<string> updateMask, string requestId = "");

    /// <summary>A page of current participant revisions (protobuf homabone.v1.Participant) in id order.</summary>
    [Alias("ListParticipants")]
    Task<ParticipantPage> ListParticipantsAsync(string afterParticipantId, int limit, bool includeWithdrawn);

    /// <summary>
    /// Answers an analysis request (protobuf GetFlowRequest, GetQuartilesRequest, GetCharacteristicsRequest,
    /// GetGroupDifferencesRequest or GetAssociationsRequest, named by <paramref name="kind"/>) at the requested
    /// or latest published version. Reply payload: the matching response message.
    /// </summary>
    [Alias("Analyze")]
    Task<GrainReply> AnalyzeAsync(AnalysisKind kind, byte[] request);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for a published version newer than <paramref name="afterVersion"/>;
    /// returns the latest published version (which may equal afterVersion on timeout).
    /// </summary>
    [Alias("WaitForVersion"), Orleans.Concurrency.AlwaysInterleave]
    Task<long> WaitForVersionAsync(long afterVersion, TimeSpan timeout);

    /// <summary>
    /// A shard's note that it holds changes not yet taken (sent once per take, one-way): the next publication asks
    /// that shard for its changes, and the others only if the changes it got do not account for every change.
    /// </summary>
    [Alias("ShardChanged"), Orleans.Concurrency.OneWay, Orleans.Concurrency.AlwaysInterleave]
    Task ShardChangedAsync(int shard);

    /// <summary>True when the cohort exists.</summary>
    [Alias("Exists")]
    Task<bool> ExistsAsync();
}

/// <summary>A page of participants; <see cref="LastParticipantId"/> is set when more pages follow.</summary>
[GenerateSerializer, Immutable, Alias("homabone.ParticipantPage")]
public sealed record ParticipantPage([property: Id(0)] IReadOnlyList<byte[]> Participants, [property: Id(1)] string? LastParticipantId);

/// <summary>The analysis RPCs answered by <see cref="ICohortGrain.AnalyzeAsync"/>.</summary>
public enum AnalysisKind
{
    /// <summary>GetFlow.</summary>
    Flow = 1,

    /// <summary>GetQuartiles.</summary>
    Quartiles = 2,

    /// <summary>GetCharacteristics.</summary>
    Characteristics = 3,

    /// <summary>GetGroupDifferences.</summary>
    GroupDifferences = 4,

    /// <summary>GetAssociations.</summary>
    Associations = 5,
}
