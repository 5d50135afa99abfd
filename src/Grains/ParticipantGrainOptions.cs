namespace HomaBone.Grains;

/// <summary>Options of <see cref="ParticipantGrain"/> (configuration section "HomaBone:Participants").</summary>
public sealed class ParticipantGrainOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "HomaBone:Participants";

    /// <summary>
    /// Deactivate a participant's activation once an imported record is applied (default true). A bulk import
    /// touches each participant once; without this every participant keeps an activation with its current payload
    /// until the idle-collection age, which held about 9 GB at 1M participants. Interactive writes
    /// (UpsertParticipant, WithdrawParticipant) keep their activation either way.
    /// </summary>
    public bool DeactivateAfterImport { get; set; } = true;
}
