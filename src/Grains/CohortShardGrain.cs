using HomaBone.Contracts.V1;
using HomaBone.Storage;

namespace HomaBone.Grains;

/// <summary>
/// Holds one shard's analysis rows: the current row per participant and the one before it, so answers at a
/// recent published version are exact without a store read. Rebuilt from the store on activation. Rows applied
/// since the cohort last took them wait in a change log (references to the held rows) for the cohort's
/// incremental state; the log belongs to an epoch the cohort starts after each rebuild of its state.
/// </summary>
public sealed class CohortShardGrain(IRecordStore store) : Grain, ICohortShardGrain
{
    private readonly Dictionary<string, (ShardRow Current, ShardRow? Previous)> _rows = new(StringComparer.Ordinal);
    private readonly List<ShardRow> _log = [];
    private Guid _epoch = Guid.NewGuid();
    private long _takenUpTo = long.MaxValue;
    private bool _incomplete = true;
    private bool _announced;
    private string _cohortId = string.Empty;
    private int _shard;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.LastIndexOf('/');
        _cohortId = key[..slash];
        _shard = int.Parse(key[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var cohort = await store.GetCohortAsync(_cohortId, cancellationToken);
        var settings = cohort is null ? new CohortSettings() : Cohort.Parser.ParseFrom(cohort.Payload).Settings;
        foreach (var stored in await store.ListShardAsync(_cohortId, _shard, cancellationToken))
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
                // An older revision arriving late (out of order): if the cohort has not taken its seq range yet,
                // its incremental state would miss the revision in force there, so the next take is incomplete.
                if (row.Revision < held.Current.Revision && row.Seq > _takenUpTo && row.Revision != held.Previous?.Revision)
                {
                    _incomplete = true;
                }

                return Task.FromResult(false);
            }

            _rows[row.ParticipantId] = (row, held.Current);
        }
        else
        {
            _rows[row.ParticipantId] = (row, null);
        }

        if (row.Seq <= _takenUpTo && _takenUpTo != long.MaxValue)
        {
            // The cohort already took (or snapshotted) past this row's seq without it: its state misses the row, so
            // the next take is incomplete and the cohort rebuilds. Not expected (the cohort drains the outbox into
            // the shards before it takes), but a silent permanent miss is the one outcome this must never have.
            _incomplete = true;
        }

        if (!_announced)
        {
            // Once per take: the cohort then asks this shard first (CohortGrain.AdvanceLiveAsync).
            _announced = true;
            GrainFactory.GetGrain<ICohortGrain>(_cohortId).ShardChangedAsync(_shard).Ignore();
        }

        if (!_incomplete)
        {
            _log.Add(row);
            if (_log.Count > Math.Max(100_000, 2 * _rows.Count))
            {
                // Nobody is taking the changes: stop logging; the cohort rebuilds its state when it next asks.
                _log.Clear();
                _incomplete = true;
            }
        }

        return Task.FromResult(true);
    }

    /// <inheritdoc />
    public async Task<int> ApplyBatchAsync(IReadOnlyList<ShardRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var applied = 0;
        foreach (var row in rows)
        {
            applied += await ApplyAsync(row) ? 1 : 0;
        }

        return applied;
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

    /// <inheritdoc />
    public Task<ShardChanges> TakeChangesAsync(Guid epoch, long afterSeq, long upToSeq)
    {
        _announced = false;
        if (epoch != _epoch || _incomplete || afterSeq < _takenUpTo)
        {
            return Task.FromResult(new ShardChanges(false, []));
        }

        var taken = new List<ShardRow>();
        var kept = 0;
        for (var i = 0; i < _log.Count; i++)
        {
            // Compacts in place (an indexer write would invalidate a foreach enumerator).
            var row = _log[i];
            if (row.Seq > upToSeq)
            {
                _log[kept++] = row;
            }
            else if (row.Seq > afterSeq)
            {
                taken.Add(row);
            }
        }

        _log.RemoveRange(kept, _log.Count - kept);
        _takenUpTo = Math.Max(_takenUpTo, upToSeq);
        taken.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        return Task.FromResult(new ShardChanges(true, taken));
    }

    /// <inheritdoc />
    public async Task<ShardSnapshot> SnapshotAsync(long asOfSeq)
    {
        var rows = await GetRowsAsync(asOfSeq);
        _announced = false;

        // Rows later than asOfSeq are already held: they open the new epoch's log (the previous one too, when it
        // is also later; the next take reaches beyond every row held now, so older intermediate revisions of
        // the same participant cannot be in force at the seq it asks for).
        _epoch = Guid.NewGuid();
        _log.Clear();
        foreach (var (current, previous) in _rows.Values)
        {
            if (previous is not null && previous.Seq > asOfSeq)
            {
                _log.Add(previous);
            }

            if (current.Seq > asOfSeq)
            {
                _log.Add(current);
            }
        }

        _takenUpTo = asOfSeq;
        _incomplete = false;
        return new ShardSnapshot(_epoch, rows);
    }
}
