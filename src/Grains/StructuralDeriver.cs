using HomaBone.Contracts.V1;

namespace HomaBone.Grains;

/// <summary>
/// The deriver used until the domain library is wired in: it accepts structurally valid records and derives
/// nothing (every derived value absent), never inventing numbers.
/// </summary>
public sealed class StructuralDeriver : IParticipantDeriver
{
    /// <inheritdoc />
    public Derivation Derive(ParticipantRecord record, CohortSettings settings) =>
        new([], record, new DerivedValues(), new Eligibility());
}
