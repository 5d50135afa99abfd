using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using HomaBone.Contracts.V1;

namespace HomaBone.Grains;

/// <summary>
/// The steps of a participant write shared by <see cref="ParticipantGrain"/> and the bulk import worker
/// (<see cref="ParticipantImportGrain"/>), so an imported revision is checked, derived and encoded exactly as an
/// upserted one.
/// </summary>
internal static class ParticipantWrites
{
    /// <summary>Decodes a record; null and a failure reply when it is not a valid message.</summary>
    public static ParticipantRecord? TryParse(byte[] encodedRecord, out GrainReply? failure)
    {
        try
        {
            failure = null;
            return ParticipantRecord.Parser.ParseFrom(encodedRecord);
        }
        catch (InvalidProtocolBufferException)
        {
            failure = GrainReply.Fail(ReplyStatus.InvalidArgument, "the participant record is not a valid homabone.v1.ParticipantRecord", [new FieldViolation("participant.record", "is not a valid encoded message")]);
            return null;
        }
    }

    /// <summary>Scrubs and derives a record under the cohort's settings; a failure reply lists every violation.</summary>
    public static Derivation? TryDerive(ParticipantRecord record, CohortSettings settings, IParticipantDeriver deriver, out GrainReply? failure)
    {
        var violations = new List<FieldViolation>();
        MessageScrubber.Check(record, "participant.record", violations);
        if (violations.Count > 0)
        {
            failure = GrainReply.Fail(ReplyStatus.InvalidArgument, "the participant record is invalid", violations);
            return null;
        }

        var derivation = deriver.Derive(record, settings);
        if (derivation.Violations.Count > 0)
        {
            failure = GrainReply.Fail(ReplyStatus.InvalidArgument, "the participant record is invalid", derivation.Violations);
            return null;
        }

        failure = null;
        return derivation;
    }

    /// <summary>The participant message of a new revision (its etag included).</summary>
    public static Participant Build(string cohortId, string participantId, ParticipantRecord record, DerivedValues derived, Eligibility eligibility, ParticipantState state, long revision, DateTimeOffset now, Timestamp? createTime) => new()
    {
        Name = ResourceNames.Participant(cohortId, participantId),
        Record = record,
        Derived = derived,
        Eligibility = eligibility,
        Revision = revision,
        Etag = MakeEtag(cohortId, participantId, revision, now),
        State = state,
        CreateTime = createTime ?? Timestamp.FromDateTimeOffset(now),
        UpdateTime = Timestamp.FromDateTimeOffset(now),
    };

    private static string MakeEtag(string cohortId, string participantId, long revision, DateTimeOffset now)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes($"{cohortId}/{participantId}/{revision}/{now.UtcTicks}"));
        return $"{revision}-{Convert.ToHexStringLower(bytes, 0, 6)}";
    }
}
