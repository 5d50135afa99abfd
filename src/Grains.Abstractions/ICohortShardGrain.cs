namespace HomaBone.Grains;

/// <summary>
/// One shard of a cohort's analysis rows. Key: "{cohort}/{shard}". Rows arrive from the participant grains
/// (at least once, through the outbox) and are applied idempotently by (participant, revision); a restarted
/// shard rebuilds exactly from the stored records.
/// </summary>
[Alias("homabone.ICohortShardGrain")]
public interface ICohortShardGrain : IGrainWithStringKey
{
    /// <summary>Applies a row if its revision is newer than the one held; returns true when applied.</summary>
    [Alias("Apply")]
    Task<bool> ApplyAsync(ShardRow row);

    /// <summary>
    /// The shard's rows as of change <paramref name="asOfSeq"/>, or null when the shard cannot answer
    /// exactly for that change (it holds a newer revision whose predecessor it no longer has).
    /// </summary>
    [Alias("Rows")]
    Task<IReadOnlyList<ShardRow>?> GetRowsAsync(long asOfSeq);
}

/// <summary>A participant's analysis row at one revision (see HomaBone.Analysis.AnalysisRow).</summary>
[GenerateSerializer, Immutable, Alias("homabone.ShardRow")]
public sealed record ShardRow(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] long Revision,
    [property: Id(2)] long Seq,
    [property: Id(3)] bool Active,
    [property: Id(4)] bool Eligible,
    [property: Id(5)] int FirstReason,
    [property: Id(6)] int[] Reasons,
    [property: Id(7)] double[] Values);

/// <summary>Builds shard grain keys.</summary>
public static class ShardKey
{
    /// <summary>The grain key of a cohort shard.</summary>
    public static string For(string cohortId, int shard) => cohortId + "/" + shard.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
