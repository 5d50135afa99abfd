namespace HomaBone.Statistics;

/// <summary>Summary of a contiguous rank range: count and per-outcome <see cref="RunningMoments"/>.</summary>
/// <param name="Count">Participants in the range.</param>
/// <param name="Outcomes">Moments of each tracked outcome (missing outcome values skipped).</param>
public sealed record RangeSummary(long Count, IReadOnlyList<RunningMoments> Outcomes);

/// <summary>
/// An order-statistic treap (Seidel &amp; Aragon 1996 Algorithmica 16:464; augmented as in Cormen et al.,
/// Introduction to Algorithms ch. 14) keyed by (value, id). Every node stores its subtree size and the Chan-
/// mergeable <see cref="RunningMoments"/> of each tracked outcome, so the statistics of any contiguous rank
/// range — an xtile group — come out in O(log n · outcomes) and follow moving cut points (methods.md §7.3).
/// <see cref="Select"/> gives order statistics for the type-2 cut points in O(log n). Priorities are a
/// hash of the id, so the shape (and hence the merge order and every rounding) depends only on the set of
/// (value, id) keys, not on insertion order: results are deterministic for a given set.
/// NaN keys are rejected (missing exposure = not in the tree).
/// </summary>
public sealed class OrderStatisticTree
{
    private readonly int _outcomes;
    private readonly Dictionary<long, Node> _byId = [];
    private Node? _root;

    /// <summary>Creates an empty tree tracking <paramref name="outcomes"/> outcome variables per participant.</summary>
    /// <param name="outcomes">Number of tracked outcomes (≥ 0).</param>
    public OrderStatisticTree(int outcomes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(outcomes);
        _outcomes = outcomes;
    }

    /// <summary>Number of participants.</summary>
    public int Count => _root?.Size ?? 0;

    /// <summary>Number of tracked outcomes.</summary>
    public int OutcomeCount => _outcomes;

    /// <summary>Inserts participant <paramref name="id"/> with key <paramref name="value"/> and outcome values (NaN = missing).</summary>
    /// <param name="id">Unique participant id.</param>
    /// <param name="value">Ordering key (e.g. HOMA-IR).</param>
    /// <param name="outcomes">Outcome values, length = <see cref="OutcomeCount"/>.</param>
    public void Insert(long id, double value, ReadOnlySpan<double> outcomes)
    {
        if (double.IsNaN(value))
        {
            throw new ArgumentException("Key must not be NaN.", nameof(value));
        }

        if (outcomes.Length != _outcomes)
        {
            throw new ArgumentException("Wrong number of outcomes.", nameof(outcomes));
        }

        if (_byId.ContainsKey(id))
        {
            throw new ArgumentException($"Id {id} already present.", nameof(id));
        }

        var node = new Node(id, value, outcomes.ToArray(), Priority(id));
        _byId[id] = node;
        _root = InsertNode(_root, node);
    }

    /// <summary>Removes participant <paramref name="id"/>.</summary>
    /// <param name="id">Participant id.</param>
    /// <returns>False when absent.</returns>
    public bool Remove(long id)
    {
        if (!_byId.Remove(id, out var node))
        {
            return false;
        }

        _root = RemoveNode(_root!, node.Value, id);
        return true;
    }

    /// <summary>The key of the k-th smallest participant, k = 1..n (1-based order statistic x₍ₖ₎).</summary>
    /// <param name="k">Rank.</param>
    /// <returns>x₍ₖ₎.</returns>
    public double Select(int k)
    {
        if (k < 1 || k > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(k));
        }

        var node = _root!;
        while (true)
        {
            var leftSize = node.Left?.Size ?? 0;
            if (k <= leftSize)
            {
                node = node.Left!;
            }
            else if (k == leftSize + 1)
            {
                return node.Value;
            }
            else
            {
                k -= leftSize + 1;
                node = node.Right!;
            }
        }
    }

    /// <summary>#{participants with key ≤ x} — the exclusive upper rank bound of the xtile group ending at cut x.</summary>
    /// <param name="x">Threshold.</param>
    /// <returns>The count.</returns>
    public int CountAtMost(double x)
    {
        var count = 0;
        var node = _root;
        while (node is not null)
        {
            if (node.Value <= x)
            {
                count += (node.Left?.Size ?? 0) + 1;
                node = node.Right;
            }
            else
            {
                node = node.Left;
            }
        }

        return count;
    }

    /// <summary>
    /// xtile cut points into <paramref name="groups"/> groups by type 2 with the exact integer test
    /// (identical to <see cref="Xtile.CutPoints"/> on the keys), via O(log n) selects.
    /// </summary>
    /// <param name="groups">k ≥ 2.</param>
    /// <returns>The k − 1 cut points (NaN when empty).</returns>
    public double[] CutPoints(int groups)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 2);
        var n = Count;
        var cuts = new double[groups - 1];
        for (var j = 1; j < groups; j++)
        {
            if (n == 0)
            {
                cuts[j - 1] = double.NaN;
                continue;
            }

            var top = (long)n * j;
            var i = top / groups;
            if (top % groups != 0)
            {
                cuts[j - 1] = Select((int)i + 1);
            }
            else
            {
                var lo = Select((int)Math.Clamp(i, 1, n));
                var hi = Select((int)Math.Clamp(i + 1, 1, n));
                cuts[j - 1] = lo != hi ? (0.5 * lo) + (0.5 * hi) : lo;
            }
        }

        return cuts;
    }

    /// <summary>Summary of the participants with 0-based ranks in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    /// <param name="from">First rank (inclusive, 0-based).</param>
    /// <param name="to">Last rank (exclusive).</param>
    /// <returns>Count and per-outcome moments.</returns>
    public RangeSummary Range(int from, int to)
    {
        from = Math.Max(from, 0);
        to = Math.Min(to, Count);
        var acc = new RunningMoments[_outcomes];
        long count = 0;
        if (to > from)
        {
            Collect(_root, from, to, acc, ref count);
        }

        return new RangeSummary(count, acc);
    }

    /// <summary>
    /// Per-group summaries for xtile groups defined by <paramref name="cuts"/> (group g = keys in
    /// (c_{g−1}, c_g], ties to the lower group): ranks [#{x ≤ c_{g−1}}, #{x ≤ c_g}).
    /// </summary>
    /// <param name="cuts">Ascending cut points.</param>
    /// <returns>One summary per group (cuts.Count + 1).</returns>
    public IReadOnlyList<RangeSummary> Groups(IReadOnlyList<double> cuts)
    {
        ArgumentNullException.ThrowIfNull(cuts);
        var result = new RangeSummary[cuts.Count + 1];
        var lower = 0;
        for (var g = 0; g <= cuts.Count; g++)
        {
            var upper = g < cuts.Count ? CountAtMost(cuts[g]) : Count;
            result[g] = Range(lower, upper);
            lower = upper;
        }

        return result;
    }

    private static void Collect(Node? node, int from, int to, RunningMoments[] acc, ref long count)
    {
        while (node is not null)
        {
            if (from <= 0 && to >= node.Size)
            {
                Accumulate(acc, node.Aggregate);
                count += node.Size;
                return;
            }

            var leftSize = node.Left?.Size ?? 0;
            if (to <= leftSize)
            {
                node = node.Left;
                continue;
            }

            if (from > leftSize)
            {
                from -= leftSize + 1;
                to -= leftSize + 1;
                node = node.Right;
                continue;
            }

            // The range straddles this node.
            Collect(node.Left, from, leftSize, acc, ref count);
            for (var t = 0; t < acc.Length; t++)
            {
                acc[t] = RunningMoments.Combine(acc[t], Single(node.Outcomes[t]));
            }

            count++;
            from = 0;
            to -= leftSize + 1;
            node = node.Right;
        }
    }

    private static void Accumulate(RunningMoments[] acc, RunningMoments[] add)
    {
        for (var t = 0; t < acc.Length; t++)
        {
            acc[t] = RunningMoments.Combine(acc[t], add[t]);
        }
    }

    private static bool Less(double v1, long id1, double v2, long id2) => v1 < v2 || (v1 == v2 && id1 < id2);

    /// <summary>Splits into keys &lt; (value, id) and keys ≥ (value, id).</summary>
    private static (Node? Left, Node? Right) Split(Node? node, double value, long id)
    {
        if (node is null)
        {
            return (null, null);
        }

        if (Less(node.Value, node.Id, value, id))
        {
            var (l, r) = Split(node.Right, value, id);
            node.Right = l;
            node.Update();
            return (node, r);
        }
        else
        {
            var (l, r) = Split(node.Left, value, id);
            node.Left = r;
            node.Update();
            return (l, node);
        }
    }

    /// <summary>Treap insertion in one descent: split the subtree where the new node's priority wins.</summary>
    private static Node InsertNode(Node? node, Node item)
    {
        if (node is null)
        {
            return item;
        }

        if (item.Priority > node.Priority)
        {
            var (l, r) = Split(node, item.Value, item.Id);
            item.Left = l;
            item.Right = r;
            item.Update();
            return item;
        }

        if (Less(item.Value, item.Id, node.Value, node.Id))
        {
            node.Left = InsertNode(node.Left, item);
        }
        else
        {
            node.Right = InsertNode(node.Right, item);
        }

        node.Update();
        return node;
    }

    /// <summary>Treap deletion in one descent: the found node is replaced by the join of its children.</summary>
    private static Node? RemoveNode(Node node, double value, long id)
    {
        if (node.Id == id)
        {
            return Join(node.Left, node.Right);
        }

        if (Less(value, id, node.Value, node.Id))
        {
            node.Left = RemoveNode(node.Left!, value, id);
        }
        else
        {
            node.Right = RemoveNode(node.Right!, value, id);
        }

        node.Update();
        return node;
    }

    private static RunningMoments Single(double x)
    {
        var m = default(RunningMoments);
        m.Add(x);
        return m;
    }

    private static Node? Join(Node? left, Node? right)
    {
        if (left is null)
        {
            return right;
        }

        if (right is null)
        {
            return left;
        }

        if (left.Priority > right.Priority)
        {
            left.Right = Join(left.Right, right);
            left.Update();
            return left;
        }

        right.Left = Join(left, right.Left);
        right.Update();
        return right;
    }

    private static ulong Priority(long id)
    {
        // SplitMix64 finalizer (Steele, Lea & Flood 2014): a fixed hash, so the tree shape is reproducible.
        var z = unchecked((ulong)id + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    private sealed class Node
    {
        public Node(long id, double value, double[] outcomes, ulong priority)
        {
            Id = id;
            Value = value;
            Priority = priority;
            Outcomes = outcomes;
            Aggregate = new RunningMoments[outcomes.Length];
            Update();
        }

        public long Id { get; }

        public double Value { get; }

        public ulong Priority { get; }

        public double[] Outcomes { get; }

        public RunningMoments[] Aggregate { get; }

        public Node? Left { get; set; }

        public Node? Right { get; set; }

        public int Size { get; private set; }

        public void Update()
        {
            var left = Left;
            var right = Right;
            Size = 1 + (left?.Size ?? 0) + (right?.Size ?? 0);
            for (var t = 0; t < Outcomes.Length; t++)
            {
                var m = Single(Outcomes[t]);
                if (left is not null)
                {
                    m = RunningMoments.Combine(left.Aggregate[t], m);
                }

                if (right is not null)
                {
                    m = RunningMoments.Combine(m, right.Aggregate[t]);
                }

                Aggregate[t] = m;
            }
        }
    }
}
