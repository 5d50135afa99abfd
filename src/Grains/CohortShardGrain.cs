using HomaBone.Contracts.V1;
using HomaBone.Storage;

namespace HomaBone.Grains;

/// <summary>
/// Holds one shard's analysis rows: the current row per participant and the one before it, so answers at a
/// recent published version are exact without a store read. Rebuilt from the store on activation.
/// </summary>
public sealed class CohortShardGrain(IRecordStore store) : Grain, ICohortShardGrain
{
    private readonly Dictionary<string, (ShardRow Current, ShardRow? Previous)> _rows = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.LastIndexOf('/');
        var cohortId = key[..slash];
        var shard = int.Parse(key[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var cohort = await store.GetCohortAsync(cohortId, cancellationToken);
        var settings = cohort is null ? new CohortSettings() : Cohort.Parser.ParseFrom(cohort.Payload).Settings;
        foreach (var stored in await store.ListShardAsync(cohortId, shard, cancellationToken))
        {
            _rows[stored.ParticipantId] = (AnalysisRows.FromStored(stored, settings), null);
        }
    }

    /// <inheritdoc />
    public Task<bool> ApplyAsync(ShardRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (_rows.TryGetValue(row.ParticipantId, out var held))
        {
            if (row.Revision <= held.Current.Revision)
            {
                return Task.FromResult(false);
            }

            _rows[row.ParticipantId] = (row, held.Current);
        }
        else
        {
            _rows[row.ParticipantId] = (row, null);
        }

        return Task.FromResult(true);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ShardRow>?> GetRowsAsync(long asOfSeq)
    {
        var result = new List<ShardRow>(_rows.Count);
        foreach (var (current, previous) in _rows.Values)
        {
            if (current.Seq <= asOfSeq)
            {
                result.Add(current);
            }
            else if (previous is not null && previous.Revision == current.Revision - 1 && previous.Seq <= asOfSeq)
            {
                // Only the immediate predecessor is known to be in force until current.Seq: a revision delivered
                // late (out of order, from the outbox) is not applied, so previous may be older than that.
                result.Add(previous);
            }
            else if (current.Revision > 1 && !(previous is { Revision: 1 } && previous.Seq > asOfSeq))
            {
                // The revision in force at asOfSeq is not held: the caller reads the store.
                return Task.FromResult<IReadOnlyList<ShardRow>?>(null);
            }

            // Otherwise the participant did not exist yet at asOfSeq (its first revision is later).
        }

        return Task.FromResult<IReadOnlyList<ShardRow>?>(result);
    }
}
