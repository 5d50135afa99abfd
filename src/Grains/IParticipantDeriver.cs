using HomaBone.Contracts.V1;

namespace HomaBone.Grains;

/// <summary>The result of deriving a participant record.</summary>
/// <param name="Violations">Every validation problem; when non-empty nothing is stored.</param>
/// <param name="Record">The record normalised to canonical units.</param>
/// <param name="Derived">Values derived on ingest.</param>
/// <param name="Eligibility">Eligibility for the study analysis.</param>
public sealed record Derivation(IReadOnlyList<FieldViolation> Violations, ParticipantRecord Record, DerivedValues Derived, Eligibility Eligibility);

/// <summary>Validates, normalises and derives a participant record under a cohort's settings.</summary>
public interface IParticipantDeriver
{
    /// <summary>Validates and derives. Never throws for bad input: it reports violations.</summary>
    Derivation Derive(ParticipantRecord record, CohortSettings settings);
}
