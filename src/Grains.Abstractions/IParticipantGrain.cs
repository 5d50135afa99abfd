namespace HomaBone.Grains;

/// <summary>
/// The careful owner of one participant's record. Key: "{cohort}/{participant}". Every write is derived,
/// persisted durably and only then acknowledged; writes are idempotent by request id and guarded by etag.
/// </summary>
[Alias("homabone.IParticipantGrain")]
public interface IParticipantGrain : IGrainWithStringKey
{
    /// <summary>Applies a record as a new revision. Reply payload: homabone.v1.Participant.</summary>
    [Alias("Upsert")]
    Task<GrainReply> UpsertAsync(UpsertParticipantCommand command);

    /// <summary>Gets the participant at a revision (0 = current). Reply payload: homabone.v1.Participant.</summary>
    [Alias("Get")]
    Task<GrainReply> GetAsync(long revision);

    /// <summary>
    /// Applies an imported record: <see cref="UpsertAsync"/> without an etag, with the settings the worker read. The
    /// activation may deactivate after the call (ParticipantGrainOptions.DeactivateAfterImport) so a bulk import
    /// does not keep one activation per participant in memory.
    /// </summary>
    [Alias("Import")]
    Task<GrainReply> ImportAsync(ImportParticipantCommand command);

    /// <summary>Withdraws the participant (a new revision that leaves every statistic).</summary>
    [Alias("Withdraw")]
    Task<GrainReply> WithdrawAsync(WithdrawParticipantCommand command);
}

/// <summary>Builds participant grain keys.</summary>
public static class ParticipantKey
{
    /// <summary>The grain key of a participant.</summary>
    public static string For(string cohortId, string participantId) => cohortId + "/" + participantId;

    /// <summary>Splits a grain key into cohort and participant ids.</summary>
    public static (string CohortId, string ParticipantId) Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 ? throw new ArgumentException("A participant key is '{cohort}/{participant}'.", nameof(key)) : (key[..slash], key[(slash + 1)..]);
    }
}
