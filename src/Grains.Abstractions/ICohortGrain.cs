namespace HomaBone.Grains;

/// <summary>A cohort: its settings and (later) its live analysis. Key: the cohort id.</summary>
[Alias("homabone.ICohortGrain")]
public interface ICohortGrain : IGrainWithStringKey
{
    /// <summary>Creates the cohort from a protobuf homabone.v1.Cohort. Reply payload: the stored Cohort.</summary>
    [Alias("Create")]
    Task<GrainReply> CreateAsync(byte[] cohort);

    /// <summary>Gets the cohort. Reply payload: homabone.v1.Cohort.</summary>
    [Alias("Get")]
    Task<GrainReply> GetAsync();

    /// <summary>Updates the fields named by <paramref name="updateMask"/>. Reply payload: homabone.v1.Cohort.</summary>
    [Alias("Update")]
    Task<GrainReply> UpdateAsync(byte[] cohort, IReadOnlyList<string> updateMask);

    /// <summary>A page of current participant revisions (protobuf homabone.v1.Participant) in id order.</summary>
    [Alias("ListParticipants")]
    Task<ParticipantPage> ListParticipantsAsync(string afterParticipantId, int limit, bool includeWithdrawn);

    /// <summary>True when the cohort exists.</summary>
    [Alias("Exists")]
    Task<bool> ExistsAsync();
}

/// <summary>A page of participants; <see cref="LastParticipantId"/> is set when more pages follow.</summary>
[GenerateSerializer, Immutable, Alias("homabone.ParticipantPage")]
public sealed record ParticipantPage([property: Id(0)] IReadOnlyList<byte[]> Participants, [property: Id(1)] string? LastParticipantId);
