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

    /// <summary>Applies rows in order, each as <see cref="ApplyAsync"/> (one call for a bulk import's rows of this shard); returns how many were applied.</summary>
    [Alias("ApplyBatch")]
    Task<int> ApplyBatchAsync(IReadOnlyList<ShardRow> rows);

    /// <summary>
    /// The shard's rows as of change <paramref name="asOfSeq"/>, or null when the shard cannot answer
    /// exactly for that change (it holds a newer revision whose predecessor it no longer has).
    /// </summary>
    [Alias("Rows")]
    Task<IReadOnlyList<ShardRow>?> GetRowsAsync(long asOfSeq);

    /// <summary>
    /// The rows applied with <paramref name="afterSeq"/> &lt; seq ≤ <paramref name="upToSeq"/>, in seq order, for
    /// the cohort's incremental state; entries up to <paramref name="upToSeq"/> leave the shard's change log. Not
    /// complete (the caller must rebuild from <see cref="GetRowsAsync"/>) when the shard was reactivated since
    /// <paramref name="epoch"/>, dropped an out-of-order revision it had not yet handed over, or trimmed its log.
    /// </summary>
    [Alias("TakeChanges")]
    Task<ShardChanges> TakeChangesAsync(Guid epoch, long afterSeq, long upToSeq);

    /// <summary>
    /// The rows as of <paramref name="asOfSeq"/> (null when the caller must read the store, as
    /// <see cref="GetRowsAsync"/>) and, in the same turn, a new change-log epoch holding the rows applied after it.
    /// </summary>
    [Alias("Snapshot")]
    Task<ShardSnapshot> SnapshotAsync(long asOfSeq);
}

/// <summary>A shard's rows as of a change and the change-log epoch that continues from there.</summary>
[GenerateSerializer, Immutable, Alias("homabone.ShardSnapshot")]
public sealed record ShardSnapshot(
    [property: Id(0)] Guid Epoch,
    [property: Id(1)] IReadOnlyList<ShardRow>? Rows);

/// <summary>A shard's changes handed to the cohort's incremental state.</summary>
[GenerateSerializer, Immutable, Alias("homabone.ShardChanges")]
public sealed record ShardChanges(
    [property: Id(0)] bool Complete,
    [property: Id(1)] IReadOnlyList<ShardRow> Rows);

/// <summary>
/// A participant's analysis row at one revision (see HomaBone.Analysis.AnalysisRow), its values packed
/// losslessly (HomaBone.Analysis.PackedValues): the shards hold one row per participant, and the cohort's
/// incremental state keeps the same packed bytes.
/// </summary>
[GenerateSerializer, Immutable, Alias("homabone.ShardRow")]
public sealed record ShardRow(
    [property: Id(0)] string ParticipantId,
    [property: Id(1)] long Revision,
    [property: Id(2)] long Seq,
    [property: Id(3)] bool Active,
    [property: Id(4)] bool Eligible,
    [property: Id(5)] int FirstReason,
    [property: Id(6)] int[] Reasons,
    [property: Id(9)] byte[] PackedValues,
    [property: Id(8)] long UpdateTicks = 0);

/// <summary>Builds shard grain keys.</summary>
public static class ShardKey
{
    /// <summary>The grain key of a cohort shard.</summary>
    public static string For(string cohortId, int shard) => cohortId + "/" + shard.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
