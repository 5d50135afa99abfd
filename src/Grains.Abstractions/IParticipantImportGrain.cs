namespace HomaBone.Grains;

/// <summary>
/// Bulk import of participant records (ImportParticipants). A stateless worker local to the silo that receives
/// the call: it reads the cohort's settings once per batch and asks the store once which participants exist. The
/// first record of a participant the store has no row for is written by the worker in one store batch (revision 1,
/// checked by the store against revision 0 and the request log; docs/decisions/0003); every other record goes
/// through its <see cref="IParticipantGrain"/> (<see cref="IParticipantGrain.ImportAsync"/>). Records of one
/// participant are applied in the order given; different participants concurrently.
/// </summary>
[Alias("homabone.IParticipantImportGrain")]
public interface IParticipantImportGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Imports a batch into a cohort; one reply per item, in order (payload: homabone.v1.Participant). A null reply
    /// means the outcome is unknown (the participant grain did not answer): retry that record with its request id.
    /// </summary>
    [Alias("Import")]
    Task<IReadOnlyList<GrainReply?>> ImportAsync(string cohortId, IReadOnlyList<ImportItem> items);
}

/// <summary>One record of an import batch.</summary>
/// <param name="ParticipantId">A valid participant id (checked by the gateway).</param>
/// <param name="Record">protobuf homabone.v1.ParticipantRecord.</param>
/// <param name="RequestId">Idempotency key; empty for none.</param>
[GenerateSerializer, Immutable, Alias("homabone.ImportItem")]
public sealed record ImportItem([property: Id(0)] string ParticipantId, [property: Id(1)] byte[] Record, [property: Id(2)] string RequestId);

/// <summary>An imported record for one participant grain: an unconditional upsert (no etag).</summary>
/// <param name="Record">protobuf homabone.v1.ParticipantRecord.</param>
/// <param name="RequestId">Idempotency key; empty for none.</param>
/// <param name="Settings">protobuf homabone.v1.CohortSettings of the cohort, read by the worker for this batch (spares a new activation its read).</param>
[GenerateSerializer, Immutable, Alias("homabone.ImportParticipantCommand")]
public sealed record ImportParticipantCommand([property: Id(0)] byte[] Record, [property: Id(1)] string RequestId, [property: Id(2)] byte[] Settings);
