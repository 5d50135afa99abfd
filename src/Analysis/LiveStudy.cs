using System.Globalization;
using HomaBone.Contracts.V1;
using HomaBone.Statistics;
using ProtoQuantile = HomaBone.Contracts.V1.QuantileDefinition;
using StatQuantile = HomaBone.Statistics.QuantileDefinition;

namespace HomaBone.Analysis;

/// <summary>
/// The study's numbers maintained incrementally as participants are added, corrected or withdrawn (issue 5):
/// flow counters; the exposure in an order-statistic tree (exact type-2 cut points in O(log n)); per group and
/// overall, Welford moments of every Table 1 variable, order-statistic trees of the skewed ones (median and IQR)
/// and level counts of the categorical ones; an <see cref="IncrementalCuzick"/> per Table 1 variable (exact
/// integer state); per outcome the co-moments of the two ANCOVA designs (group dummies, covariates, outcome) and
/// per outcome and model the co-moments of models 1–3. A change costs O(log n + Σ p²); when the cut points move,
/// participants whose group changes are moved between the group states (<see cref="Complete"/>). Answers come from
/// <see cref="StudyAnalysis"/> over this source. Numbers equal the batch twin (<see cref="RowStudySource"/>) up
/// to rounding (co-moment regressions instead of Householder QR; tested ≤ 1e-12 relative); counts, cut points,
/// groups, quantiles and Cuzick statistics are exact. Removals are Welford downdates: after as many removals and
/// moves as rows held, or when a co-moment matrix lost more than two digits, the state is rebuilt from its rows.
/// Not thread-safe (one grain turn at a time).
/// </summary>
public sealed class LiveStudy : IStudySource
{
    private const double MaxLostDigits = 2.0;
    private const int MaxModelWidth = 256;

    private readonly int _k;
    private readonly int _exposure;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly long[] _first = new long[StudyAnalysis.ReasonSlots];
    private readonly long[] _any = new long[StudyAnalysis.ReasonSlots];
    private readonly Dictionary<int, ContinuousState> _continuous = [];
    private readonly Dictionary<int, CountState> _counts = [];
    private readonly Dictionary<int, AncovaState> _ancova = [];
    private readonly Dictionary<string, ModelState> _models = new(StringComparer.Ordinal);
    private readonly ModelDesign _groupCovariates;
    private OrderStatisticTree _exposureTree = new(0, indexIds: false);
    private long _active;
    private long _eligible;
    private long _withdrawn;
    private long _nextSlot;
    private long _downdates;
    private double[] _scratch = new double[64];
    private readonly double[] _held = new double[Variables.Count];
    private bool _coMomentsDeferred;
    private long[] _groupSizes;

    /// <summary>An empty state for <paramref name="settings"/> (defaults applied).</summary>
    public LiveStudy(CohortSettings settings)
    {
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _k = settings.GroupCount;
        _exposure = StudyAnalysis.ExposureIndex(settings.Exposure);
        _groupCovariates = ModelDesign.Build(settings.GroupDifferenceCovariates);
        _groupSizes = new long[_k + 1];
        foreach (var variable in StudyAnalysis.Table1Variables)
        {
            if (variable.Kind is VariableKind.Binary or VariableKind.Ordinal)
            {
                _counts[variable.Index] = new CountState(_k, variable.Kind == VariableKind.Ordinal);
            }
            else
            {
                _continuous[variable.Index] = new ContinuousState(_k, variable.Kind == VariableKind.Skewed);
            }
        }

        var exposure = new ModelTerm { Variable = StudyAnalysis.ExposureTerm(settings.Exposure) };
        foreach (var name in settings.Outcomes.Distinct())
        {
            if (!Variables.TryGet(name, out var outcome))
            {
                continue;
            }

            _ancova[outcome.Index] = new AncovaState(outcome, _groupCovariates.Columns.Count, _k);
            foreach (var set in settings.Models)
            {
                if (set.Covariates.Any(t => !Variables.TryGet(t.Variable, out _)))
                {
                    continue;
                }

                var design = ModelDesign.Build([exposure, .. set.Covariates]);
                if (design.Columns.Count + 1 > MaxModelWidth)
                {
                    continue;
                }

                _models.TryAdd(ModelKey(outcome.Index, Transform.Unspecified, design), new ModelState(outcome, design));
            }
        }
    }

    /// <summary>The settings this state was built for.</summary>
    public CohortSettings Settings { get; }

    /// <summary>The change sequence number the state reflects (set by its owner).</summary>
    public long Seq { get; set; }

    /// <summary>The latest update time (UTC ticks) of any row applied: the data time.</summary>
    public long MaxUpdateTicks { get; private set; }

    /// <summary>Participants held (any state).</summary>
    public int Count => _entries.Count;

    /// <summary>Full rebuilds triggered by the numerical safety rule.</summary>
    public int Rebuilds { get; private set; }

    FlowCounts IStudySource.Flow => new(_active, _eligible, _withdrawn, (long[])_first.Clone(), (long[])_any.Clone());

    /// <inheritdoc cref="IStudySource.AnalysedCount"/>
    public int AnalysedCount => _exposureTree.Count;

    /// <inheritdoc cref="IStudySource.Cuts"/>
    public double[] Cuts { get; private set; } = [];

    /// <summary>Builds the state of a row set (any order) and completes it.</summary>
    public static LiveStudy Build(CohortSettings settings, IEnumerable<(AnalysisRow Row, long UpdateTicks)> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return Build(settings, rows.Select(r => (r.Row, r.UpdateTicks, (byte[]?)null)));
    }

    /// <summary>
    /// Builds the state of a row set (any order) and completes it; each row may come with its values already
    /// packed (<see cref="PackedValues.Pack"/> of exactly its values), which the state then shares. With
    /// <paramref name="parallel"/> (and every participant once), the co-moments of the ANCOVA designs and models
    /// are accumulated on other cores while this thread builds the rest; each accumulator still receives the rows
    /// in the list's order, so the state is bit-identical to the sequential build.
    /// </summary>
    public static LiveStudy Build(CohortSettings settings, IEnumerable<(AnalysisRow Row, long UpdateTicks, byte[]? Packed)> rows, bool parallel = true)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var list = rows as IReadOnlyList<(AnalysisRow Row, long UpdateTicks, byte[]? Packed)> ?? [.. rows];
        var live = new LiveStudy(settings);

        // The cut points first (from the analysed rows' exposures), so every row enters its final group once
        // instead of entering group 0 and moving at Complete.
        var exposure = new OrderStatisticTree(0, indexIds: false);
        long id = 0;
        foreach (var (row, _, _) in list)
        {
            if (row.Active && row.Eligible && !double.IsNaN(row.Values[live._exposure]))
            {
                exposure.Insert(id++, row.Values[live._exposure], []);
            }
        }

        live._exposureTree = exposure;
        live.Cuts = live.ComputeCuts();
        live._exposureTree = new OrderStatisticTree(0, indexIds: false);
        Task? coMoments = null;
        if (parallel && list.Count >= 1000 && (live._models.Count > 0 || live._ancova.Count > 0)
            && list.Select(r => r.Row.ParticipantId).Distinct(StringComparer.Ordinal).Count() == list.Count)
        {
            live._coMomentsDeferred = true;
            coMoments = Task.Run(() => live.AccumulateCoMoments(list));
        }

        try
        {
            foreach (var (row, ticks, packed) in list)
            {
                live.Apply(row, ticks, packed);
            }
        }
        finally
        {
            coMoments?.GetAwaiter().GetResult();
            live._coMomentsDeferred = false;
        }

        live.Complete();
        return live;
    }

    /// <summary>
    /// Applies a participant's new row (replacing the one held for that participant, if any). Call
    /// <see cref="Complete"/> after a batch of changes, before answering. The state keeps the row's values packed
    /// (<see cref="PackedValues"/>, lossless): <paramref name="packed"/>, when given, must be
    /// <see cref="PackedValues.Pack"/> of exactly <c>row.Values</c> (the shards' bytes, shared instead of copied).
    /// </summary>
    public void Apply(AnalysisRow row, long updateTicks, byte[]? packed = null)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.Values.Length != Variables.Count)
        {
            throw new ArgumentException("The row's values are not the catalogue's.", nameof(row));
        }

        packed ??= PackedValues.Pack(row.Values);
        if (PackedValues.Count(packed) != Variables.Count)
        {
            throw new ArgumentException("The packed values are not the catalogue's.", nameof(packed));
        }

        MaxUpdateTicks = Math.Max(MaxUpdateTicks, updateTicks);
        if (_entries.TryGetValue(row.ParticipantId, out var entry))
        {
            Unapply(entry);
            _downdates++;
        }
        else
        {
            entry = new Entry(_nextSlot++);
            _entries.Add(row.ParticipantId, entry);
        }

        entry.Set(row, packed, row.Values[_exposure]);
        Include(entry, row.Values);
    }

    /// <summary>
    /// Finishes a batch of changes: recomputes the cut points and moves participants whose group changed; rebuilds
    /// from the rows when the downdates since the last rebuild reach the rows held or a co-moment matrix lost more
    /// than <see cref="MaxLostDigits"/> digits.
    /// </summary>
    public void Complete()
    {
        var cuts = ComputeCuts();
        if (!cuts.AsSpan().SequenceEqual(Cuts))
        {
            Cuts = cuts;
            foreach (var entry in _entries.Values)
            {
                if (!entry.Analysed)
                {
                    continue;
                }

                var group = GroupOf(entry.Exposure);
                if (group != entry.Group)
                {
                    var values = Held(entry);
                    RemoveGrouped(entry, values);
                    entry.Group = group;
                    AddGrouped(entry, values);
                    _downdates++;
                }
            }
        }

        if (_downdates > Math.Max(1000, _entries.Count) || _ancova.Values.Any(a => a.Half.LostDigits > MaxLostDigits || a.Each.LostDigits > MaxLostDigits) || _models.Values.Any(m => m.Moments.LostDigits > MaxLostDigits))
        {
            Rebuild();
        }
    }

    /// <inheritdoc cref="IStudySource.GroupSize"/>
    public long GroupSize(int group) => group == 0 ? _exposureTree.Count : (group <= _k ? _groupSizes[group] : 0);

    ContinuousSummary IStudySource.Summary(Variable variable, int group)
    {
        var state = _continuous[variable.Index];
        var moments = group == 0 ? state.Overall : state.Groups[group];
        var size = GroupSize(group);
        var tree = state.Skewed ? (group == 0 ? state.OverallTree : state.Trees![group]) : null;
        return new ContinuousSummary(
            moments.Count,
            size - moments.Count,
            moments.Mean,
            moments.StandardDeviation,
            tree is null ? double.NaN : Type2(tree, 1, 2),
            tree is null ? double.NaN : Type2(tree, 1, 4),
            tree is null ? double.NaN : Type2(tree, 3, 4));
    }

    CuzickResult IStudySource.Cuzick(Variable variable) =>
        _continuous.TryGetValue(variable.Index, out var c) ? c.Cuzick.Result() : _counts[variable.Index].Cuzick!.Result();

    (long NonMissing, long Count) IStudySource.LevelCount(Variable variable, double level, int group)
    {
        var state = _counts[variable.Index];
        return (state.NonMissing[group], state.Levels[group].GetValueOrDefault(level));
    }

    TestResult IStudySource.CochranArmitage(Variable variable, CochranArmitageVariance variance)
    {
        var state = _counts[variable.Index];
        var groups = Enumerable.Range(1, _k).Where(g => state.NonMissing[g] > 0).ToArray();
        return CochranArmitage.Test(
            [.. groups.Select(g => state.Levels[g].GetValueOrDefault(1.0))],
            [.. groups.Select(g => state.NonMissing[g])],
            [.. groups.Select(g => (double)g)],
            variance);
    }

    TestResult IStudySource.LinearByLinear(Variable variable)
    {
        var (table, rows, columns) = Table(_counts[variable.Index]);
        return ContingencyTests.LinearByLinear(table, rows, columns);
    }

    TestResult IStudySource.PearsonChiSquare(Variable variable) => ContingencyTests.PearsonChiSquare(Table(_counts[variable.Index]).Table);

    GroupComparisonData IStudySource.GroupComparison(Variable outcome, ModelDesign covariates, bool half, AncovaOptions options)
    {
        if (!_ancova.TryGetValue(outcome.Index, out var state) || covariates.Key != _groupCovariates.Key)
        {
            throw new InvalidOperationException($"the live state holds no comparison of '{outcome.Name}' with these covariates");
        }

        var counts = new Dictionary<double, int>();
        if (half)
        {
            for (var g = 0; g < 2; g++)
            {
                if (state.YHalf[g].Count > 0)
                {
                    counts[g] = (int)state.YHalf[g].Count;
                }
            }
        }
        else
        {
            for (var g = 1; g <= _k; g++)
            {
                if (state.YEach[g].Count > 0)
                {
                    counts[g] = (int)state.YEach[g].Count;
                }
            }
        }

        return new GroupComparisonData(counts, () => FitAncova(state, covariates, half, options));
    }

    ModelData? IStudySource.Model(Variable outcome, Transform transform, ModelDesign design)
    {
        if (!_models.TryGetValue(ModelKey(outcome.Index, transform, design), out var state))
        {
            return null;
        }

        var q = design.Columns.Count;
        return new ModelData((int)state.Moments.Count, () => state.Moments.Regress(q, [.. Enumerable.Range(0, q)], design.Names));
    }

    private static string ModelKey(int outcome, Transform transform, ModelDesign design) =>
        string.Create(CultureInfo.InvariantCulture, $"{outcome}:{(int)transform}:{design.Key}");

    private static double Type2(OrderStatisticTree tree, long numerator, long denominator)
    {
        // Hyndman–Fan type 2 exactly as Quantiles.FromSorted: j = ⌊n·p⌋ in integers, the average of the j-th and
        // (j+1)-th order statistics when n·p is an integer, else the (j+1)-th; indices clamped to [1, n].
        var n = tree.Count;
        if (n == 0)
        {
            return double.NaN;
        }

        var top = (long)n * numerator;
        var j = top / denominator;
        var isInteger = top % denominator == 0;
        var hi = tree.Select((int)Math.Clamp(j + 1, 1, n));
        if (!isInteger)
        {
            return hi;
        }

        var lo = tree.Select((int)Math.Clamp(j, 1, n));
        return lo != hi ? (0.5 * lo) + (0.5 * hi) : lo;
    }

    private AncovaResult FitAncova(AncovaState state, ModelDesign covariates, bool half, AncovaOptions options)
    {
        var moments = half ? state.Half : state.Each;
        var dummies = half ? 1 : _k - 1;
        var q = dummies + covariates.Columns.Count;
        var names = new List<string>(q);
        for (var d = 0; d < dummies; d++)
        {
            names.Add("group=" + (half ? 1 : d + 2).ToString("R", CultureInfo.InvariantCulture));
        }

        names.AddRange(covariates.Names);
        var fit = moments.Regress(q, [.. Enumerable.Range(0, q)], names, new OlsOptions { ConfidenceLevel = options.ConfidenceLevel, RankTolerance = options.RankTolerance });
        var groups = half ? state.YHalf : state.YEach;
        var reference = half ? 0 : 1;
        double[] others = half ? [1] : [.. Enumerable.Range(2, _k - 1).Select(g => (double)g)];
        return Ancova.FromFit(fit, reference, others, groups[reference], [.. groups.Where(m => m.Count > 0)], options.Scale);
    }

    private (long[][] Table, double[] Rows, double[] Columns) Table(CountState state)
    {
        var rows = Enumerable.Range(1, _k).Where(g => state.NonMissing[g] > 0).Select(g => (double)g).ToArray();
        var columns = state.Levels[0].Where(l => l.Value > 0).Select(l => l.Key).Order().ToArray();
        var table = rows.Select(g => columns.Select(level => state.Levels[(int)g].GetValueOrDefault(level)).ToArray()).ToArray();
        return (table, rows, columns);
    }

    private double[] ComputeCuts()
    {
        var n = _exposureTree.Count;
        if (n < _k)
        {
            return [];
        }

        if (Settings.QuantileDefinition is ProtoQuantile.Unspecified or ProtoQuantile.Type2)
        {
            return _exposureTree.CutPoints(_k);
        }

        var sorted = new double[n];
        for (var i = 0; i < n; i++)
        {
            sorted[i] = _exposureTree.Select(i + 1);
        }

        return [.. Enumerable.Range(1, _k - 1).Select(j => Quantiles.FromSorted(sorted, j, _k, (StatQuantile)(int)Settings.QuantileDefinition))];
    }

    private int GroupOf(double exposure) => Cuts.Length == 0 ? 0 : Xtile.Assign(exposure, Cuts);

    private void Include(Entry entry, double[] values)
    {
        if (!entry.Active)
        {
            _withdrawn++;
            entry.Analysed = false;
            return;
        }

        _active++;
        _eligible += entry.Eligible ? 1 : 0;
        _first[StudyAnalysis.ReasonSlot(entry.FirstReason)]++;
        foreach (var reason in entry.Reasons.Distinct())
        {
            _any[StudyAnalysis.ReasonSlot(reason)]++;
        }

        entry.Analysed = entry.Eligible && !double.IsNaN(entry.Exposure);
        if (!entry.Analysed)
        {
            return;
        }

        entry.Group = GroupOf(entry.Exposure);
        AddUngrouped(entry, values);
        AddGrouped(entry, values);
    }

    private void Unapply(Entry entry)
    {
        if (!entry.Active)
        {
            _withdrawn--;
            return;
        }

        _active--;
        _eligible -= entry.Eligible ? 1 : 0;
        _first[StudyAnalysis.ReasonSlot(entry.FirstReason)]--;
        foreach (var reason in entry.Reasons.Distinct())
        {
            _any[StudyAnalysis.ReasonSlot(reason)]--;
        }

        if (entry.Analysed)
        {
            var values = Held(entry);
            RemoveGrouped(entry, values);
            RemoveUngrouped(entry, values);
        }
    }

    /// <summary>The values held for <paramref name="entry"/>, unpacked into a scratch buffer (valid until the next call).</summary>
    private double[] Held(Entry entry)
    {
        PackedValues.Unpack(entry.Packed, _held);
        return _held;
    }

    private void AddUngrouped(Entry entry, double[] values)
    {
        _exposureTree.Insert(entry.Slot, entry.Exposure, []);
        foreach (var (index, state) in _continuous)
        {
            var v = values[index];
            if (!double.IsNaN(v))
            {
                state.Overall.Add(v);
                state.OverallTree?.Insert(entry.Slot, v, []);
            }
        }

        foreach (var (index, state) in _counts)
        {
            var v = values[index];
            if (!double.IsNaN(v))
            {
                state.NonMissing[0]++;
                CollectionsAdd(state.Levels[0], v, 1);
            }
        }

        if (_coMomentsDeferred)
        {
            return;
        }

        Span<double> x = stackalloc double[MaxModelWidth];
        foreach (var model in _models.Values)
        {
            if (ModelRow(model, values, x) is { Length: > 0 } row)
            {
                model.Moments.Add(row);
            }
        }
    }

    private void RemoveUngrouped(Entry entry, double[] values)
    {
        _exposureTree.Remove(entry.Slot, entry.Exposure);
        foreach (var (index, state) in _continuous)
        {
            var v = values[index];
            if (!double.IsNaN(v))
            {
                state.Overall.Remove(v);
                state.OverallTree?.Remove(entry.Slot, v);
            }
        }

        foreach (var (index, state) in _counts)
        {
            var v = values[index];
            if (!double.IsNaN(v))
            {
                state.NonMissing[0]--;
                CollectionsAdd(state.Levels[0], v, -1);
            }
        }

        Span<double> x = stackalloc double[MaxModelWidth];
        foreach (var model in _models.Values)
        {
            if (ModelRow(model, values, x) is { Length: > 0 } row)
            {
                model.Moments.Remove(row);
            }
        }
    }

    private void AddGrouped(Entry entry, double[] values) => Grouped(entry, values, +1);

    private void RemoveGrouped(Entry entry, double[] values) => Grouped(entry, values, -1);

    private void Grouped(Entry entry, double[] values, int sign)
    {
        var g = entry.Group;
        _groupSizes[g] += sign;
        foreach (var (index, state) in _continuous)
        {
            var v = values[index];
            if (double.IsNaN(v))
            {
                continue;
            }

            if (sign > 0)
            {
                state.Groups[g].Add(v);
                state.Trees?[g].Insert(entry.Slot, v, []);
                state.Cuzick.Insert(v, g);
            }
            else
            {
                state.Groups[g].Remove(v);
                state.Trees?[g].Remove(entry.Slot, v);
                state.Cuzick.Remove(v, g);
            }
        }

        foreach (var (index, state) in _counts)
        {
            var v = values[index];
            if (double.IsNaN(v))
            {
                continue;
            }

            state.NonMissing[g] += sign;
            CollectionsAdd(state.Levels[g], v, sign);
            if (state.Cuzick is { } cuzick)
            {
                if (sign > 0)
                {
                    cuzick.Insert(v, g);
                }
                else
                {
                    cuzick.Remove(v, g);
                }
            }
        }

        if (_coMomentsDeferred)
        {
            return;
        }

        var q = _groupCovariates.Columns.Count;
        if (_scratch.Length < q)
        {
            _scratch = new double[q];
        }

        var z = _scratch.AsSpan(0, q);
        if (!_groupCovariates.TryExtract(values, z))
        {
            return;
        }

        Span<double> half = stackalloc double[q + 2];
        Span<double> each = stackalloc double[_k - 1 + q + 1];
        var h = AncovaRows(z, g, half, each);
        foreach (var (index, state) in _ancova)
        {
            var y = values[index];
            if (double.IsNaN(y))
            {
                continue;
            }

            half[^1] = y;
            each[^1] = y;
            if (sign > 0)
            {
                state.Half.Add(half);
                state.Each.Add(each);
                state.YHalf[h].Add(y);
                state.YEach[g].Add(y);
            }
            else
            {
                state.Half.Remove(half);
                state.Each.Remove(each);
                state.YHalf[h].Remove(y);
                state.YEach[g].Remove(y);
            }
        }
    }

    /// <summary>
    /// The build's co-moments, one accumulator per task: each model over the analysed rows, each ANCOVA design over
    /// the analysed rows with complete covariates, in the list's order (as <see cref="Apply"/> would add them).
    /// Reads only the rows, the settings and the cut points, which the building thread does not change.
    /// </summary>
    private void AccumulateCoMoments(IReadOnlyList<(AnalysisRow Row, long UpdateTicks, byte[]? Packed)> list)
    {
        var analysed = new List<(double[] Values, int Group)>(list.Count);
        foreach (var (row, _, _) in list)
        {
            var exposure = row.Values[_exposure];
            if (row.Active && row.Eligible && !double.IsNaN(exposure))
            {
                analysed.Add((row.Values, GroupOf(exposure)));
            }
        }

        var jobs = new List<Action>();
        foreach (var model in _models.Values)
        {
            jobs.Add(() =>
            {
                Span<double> x = stackalloc double[MaxModelWidth];
                foreach (var (values, _) in analysed)
                {
                    if (ModelRow(model, values, x) is { Length: > 0 } row)
                    {
                        model.Moments.Add(row);
                    }
                }
            });
        }

        foreach (var state in _ancova.Values)
        {
            jobs.Add(() =>
            {
                var q = _groupCovariates.Columns.Count;
                Span<double> z = stackalloc double[q];
                Span<double> half = stackalloc double[q + 2];
                Span<double> each = stackalloc double[_k - 1 + q + 1];
                foreach (var (values, g) in analysed)
                {
                    var y = values[state.Outcome.Index];
                    if (double.IsNaN(y) || !_groupCovariates.TryExtract(values, z))
                    {
                        continue;
                    }

                    var h = AncovaRows(z, g, half, each);
                    half[^1] = y;
                    each[^1] = y;
                    state.Half.Add(half);
                    state.Each.Add(each);
                    state.YHalf[h].Add(y);
                    state.YEach[g].Add(y);
                }
            });
        }

        Parallel.Invoke(new ParallelOptions { TaskScheduler = TaskScheduler.Default }, [.. jobs]);
    }

    /// <summary>
    /// The ANCOVA design rows of a participant in group <paramref name="g"/> with covariates <paramref name="z"/>:
    /// [upper-half dummy | z | y] and [group dummies 2..k | z | y] (y, the last element, is the caller's); returns
    /// the half (0 = lower, 1 = upper).
    /// </summary>
    private int AncovaRows(ReadOnlySpan<double> z, int g, Span<double> half, Span<double> each)
    {
        var h = g > _k / 2 ? 1 : 0;
        half[0] = h;
        z.CopyTo(half[1..]);
        for (var d = 2; d <= _k; d++)
        {
            each[d - 2] = g == d ? 1 : 0;
        }

        z.CopyTo(each[(_k - 1)..]);
        return h;
    }

    private static Span<double> ModelRow(ModelState model, double[] values, Span<double> buffer)
    {
        var y = values[model.Outcome.Index];
        var x = buffer[..(model.Design.Columns.Count + 1)];
        if (double.IsNaN(y) || !model.Design.TryExtract(values, x))
        {
            return [];
        }

        x[^1] = y;
        return x;
    }

    private static void CollectionsAdd(Dictionary<double, long> levels, double level, long delta)
    {
        var count = levels.GetValueOrDefault(level) + delta;
        if (count == 0)
        {
            levels.Remove(level);
        }
        else
        {
            levels[level] = count;
        }
    }

    private void Rebuild()
    {
        Rebuilds++;
        var held = _entries.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        var fresh = new LiveStudy(Settings);
        foreach (var (id, entry) in held)
        {
            var row = new AnalysisRow(id, 0, 0, entry.Active, entry.Eligible, entry.FirstReason, entry.Reasons, PackedValues.Unpack(entry.Packed));
            fresh.Apply(row, 0, entry.Packed);
        }

        fresh.Complete();
        _entries.Clear();
        foreach (var (id, entry) in fresh._entries)
        {
            _entries.Add(id, entry);
        }

        Array.Copy(fresh._first, _first, _first.Length);
        Array.Copy(fresh._any, _any, _any.Length);
        _continuous.Clear();
        foreach (var (k, v) in fresh._continuous)
        {
            _continuous.Add(k, v);
        }

        _counts.Clear();
        foreach (var (k, v) in fresh._counts)
        {
            _counts.Add(k, v);
        }

        _ancova.Clear();
        foreach (var (k, v) in fresh._ancova)
        {
            _ancova.Add(k, v);
        }

        _models.Clear();
        foreach (var (k, v) in fresh._models)
        {
            _models.Add(k, v);
        }

        _exposureTree = fresh._exposureTree;
        _groupSizes = fresh._groupSizes;
        (_active, _eligible, _withdrawn, _nextSlot) = (fresh._active, fresh._eligible, fresh._withdrawn, fresh._nextSlot);
        Cuts = fresh.Cuts;
        _downdates = 0;
    }

    /// <summary>A participant's part of the state: its row's flags and packed values, and where it is counted.</summary>
    private sealed class Entry(long slot)
    {
        public long Slot { get; } = slot;

        public byte[] Packed { get; private set; } = [];

        public int[] Reasons { get; private set; } = [];

        /// <summary>The exposure value (NaN = missing), kept unpacked: every entry is checked when the cut points move.</summary>
        public double Exposure { get; private set; }

        public int FirstReason { get; private set; }

        public int Group { get; set; }

        public bool Active { get; private set; }

        public bool Eligible { get; private set; }

        public bool Analysed { get; set; }

        public void Set(AnalysisRow row, byte[] packed, double exposure)
        {
            Packed = packed;
            Reasons = row.Reasons;
            Exposure = exposure;
            FirstReason = row.FirstReason;
            Active = row.Active;
            Eligible = row.Eligible;
        }
    }

    private sealed class ContinuousState
    {
        public ContinuousState(int k, bool skewed)
        {
            Groups = new RunningMoments[k + 1];
            Skewed = skewed;
            if (skewed)
            {
                Trees = [.. Enumerable.Range(0, k + 1).Select(_ => new OrderStatisticTree(0, indexIds: false))];
                OverallTree = new OrderStatisticTree(0, indexIds: false);
            }
        }

        public bool Skewed { get; }

        public RunningMoments[] Groups { get; }

        public RunningMoments Overall;

        public OrderStatisticTree[]? Trees { get; }

        public OrderStatisticTree? OverallTree { get; }

        public IncrementalCuzick Cuzick { get; } = new();
    }

    private sealed class CountState(int k, bool ordinal)
    {
        public long[] NonMissing { get; } = new long[k + 1];

        public Dictionary<double, long>[] Levels { get; } = [.. Enumerable.Range(0, k + 1).Select(_ => new Dictionary<double, long>())];

        public IncrementalCuzick? Cuzick { get; } = ordinal ? new IncrementalCuzick() : null;
    }

    private sealed class AncovaState(Variable outcome, int covariates, int k)
    {
        public Variable Outcome { get; } = outcome;

        public CoMoments Half { get; } = new(1 + covariates + 1);

        public CoMoments Each { get; } = new(k - 1 + covariates + 1);

        public RunningMoments[] YHalf { get; } = new RunningMoments[2];

        public RunningMoments[] YEach { get; } = new RunningMoments[k + 1];
    }

    private sealed class ModelState(Variable outcome, ModelDesign design)
    {
        public Variable Outcome { get; } = outcome;

        public ModelDesign Design { get; } = design;

        public CoMoments Moments { get; } = new(design.Columns.Count + 1);
    }
}
