namespace HomaBone.Grains;

/// <summary>The outcome class of a grain reply; the gateway maps it to a gRPC status.</summary>
public enum ReplyStatus
{
    /// <summary>Success.</summary>
    Ok = 0,

    /// <summary>The input is invalid; <see cref="GrainReply.Violations"/> lists every problem.</summary>
    InvalidArgument = 1,

    /// <summary>The cohort, participant or revision does not exist.</summary>
    NotFound = 2,

    /// <summary>An etag did not match (optimistic concurrency).</summary>
    Aborted = 3,

    /// <summary>The operation is not allowed in the current state.</summary>
    FailedPrecondition = 4,

    /// <summary>The resource exists already.</summary>
    AlreadyExists = 5,
}

/// <summary>One field violation: a dotted field path and what is wrong, with the accepted range and unit.</summary>
[GenerateSerializer, Immutable, Alias("homabone.FieldViolation")]
public sealed record FieldViolation([property: Id(0)] string Field, [property: Id(1)] string Description);

/// <summary>
/// A grain's reply. <see cref="Payload"/> is a protobuf-encoded homabone.v1 message (the stored and wire
/// format; see docs/decisions/0001).
/// </summary>
[GenerateSerializer, Immutable, Alias("homabone.GrainReply")]
public sealed record GrainReply(
    [property: Id(0)] ReplyStatus Status,
    [property: Id(1)] string? Message,
    [property: Id(2)] byte[]? Payload,
    [property: Id(3)] bool Created,
    [property: Id(4)] IReadOnlyList<FieldViolation>? Violations)
{
    /// <summary>A successful reply.</summary>
    public static GrainReply Ok(byte[] payload, bool created = false) => new(ReplyStatus.Ok, null, payload, created, null);

    /// <summary>A failed reply.</summary>
    public static GrainReply Fail(ReplyStatus status, string message, IReadOnlyList<FieldViolation>? violations = null) => new(status, message, null, false, violations);
}

/// <summary>Write a participant's record as a new revision.</summary>
/// <param name="Record">protobuf homabone.v1.ParticipantRecord.</param>
/// <param name="RequestId">Idempotency key; empty for none.</param>
/// <param name="Etag">Expected current etag; empty for unconditional.</param>
[GenerateSerializer, Immutable, Alias("homabone.UpsertParticipantCommand")]
public sealed record UpsertParticipantCommand([property: Id(0)] byte[] Record, [property: Id(1)] string RequestId, [property: Id(2)] string Etag);

/// <summary>Withdraw a participant.</summary>
[GenerateSerializer, Immutable, Alias("homabone.WithdrawParticipantCommand")]
public sealed record WithdrawParticipantCommand([property: Id(0)] string RequestId, [property: Id(1)] string Etag);
