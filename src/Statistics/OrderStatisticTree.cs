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
/// NaN keys are rejected (missing exposure = not in the tree). Nodes live in parallel arrays (indices, not
/// objects) so that a path from the root touches few cache lines and updates allocate nothing.
/// </summary>
public sealed class OrderStatisticTree
{
    private const int Nil = -1;
    private static RunningMoments _empty;
    private readonly int _outcomes;
    private readonly Dictionary<long, int> _byId = [];
    private readonly Stack<int> _free = new();
    private NodeData[] _nodes;
    private double[] _values;
    private RunningMoments[] _aggregate;
    private int _used;
    private int _root = Nil;

    /// <summary>Creates an empty tree tracking <paramref name="outcomes"/> outcome variables per participant.</summary>
    /// <param name="outcomes">Number of tracked outcomes (≥ 0).</param>
    /// <param name="capacity">Initial node capacity (grows by doubling).</param>
    public OrderStatisticTree(int outcomes, int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(outcomes);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _outcomes = outcomes;
        _nodes = new NodeData[capacity];
        _values = new double[capacity * outcomes];
        _aggregate = new RunningMoments[capacity * outcomes];
    }

    /// <summary>Number of participants.</summary>
    public int Count => _root == Nil ? 0 : _nodes[_root].Size;

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

        if (!_byId.TryAdd(id, 0))
        {
            throw new ArgumentException($"Id {id} already present.", nameof(id));
        }

        var node = Allocate();
        _byId[id] = node;
        _nodes[node].Id = id;
        _nodes[node].Key = value;
        _nodes[node].Priority = Priority(id);
        _nodes[node].Left = Nil;
        _nodes[node].Right = Nil;
        outcomes.CopyTo(_values.AsSpan(node * _outcomes, _outcomes));
        Update(node);
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

        _root = RemoveNode(_root, _nodes[node].Key, id);
        _free.Push(node);
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

        var node = _root;
        while (true)
        {
            var leftSize = SizeOf(_nodes[node].Left);
            if (k <= leftSize)
            {
                node = _nodes[node].Left;
            }
            else if (k == leftSize + 1)
            {
                return _nodes[node].Key;
            }
            else
            {
                k -= leftSize + 1;
                node = _nodes[node].Right;
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
        while (node != Nil)
        {
            if (_nodes[node].Key <= x)
            {
                count += SizeOf(_nodes[node].Left) + 1;
                node = _nodes[node].Right;
            }
            else
            {
                node = _nodes[node].Left;
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

    /// <summary>Mean depth of the nodes (root = 1): a balance diagnostic, ≈ 2·ln n for a treap.</summary>
    internal double AverageDepth()
    {
        if (_root == Nil)
        {
            return 0;
        }

        long total = 0;
        var stack = new Stack<(int Node, int Depth)>();
        stack.Push((_root, 1));
        while (stack.Count > 0)
        {
            var (node, depth) = stack.Pop();
            total += depth;
            if (_nodes[node].Left != Nil)
            {
                stack.Push((_nodes[node].Left, depth + 1));
            }

            if (_nodes[node].Right != Nil)
            {
                stack.Push((_nodes[node].Right, depth + 1));
            }
        }

        return (double)total / Count;
    }

    private static RunningMoments Single(double x)
    {
        var m = default(RunningMoments);
        m.Add(x);
        return m;
    }

    private static bool Less(double v1, long id1, double v2, long id2) => v1 < v2 || (v1 == v2 && id1 < id2);

    private static ulong Priority(long id)
    {
        // SplitMix64 finalizer (Steele, Lea & Flood 2014): a fixed hash, so the tree shape is reproducible.
        var z = unchecked((ulong)id + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    private int SizeOf(int node) => node == Nil ? 0 : _nodes[node].Size;

    private void Collect(int node, int from, int to, RunningMoments[] acc, ref long count)
    {
        while (node != Nil)
        {
            if (from <= 0 && to >= _nodes[node].Size)
            {
                for (var t = 0; t < acc.Length; t++)
                {
                    acc[t] = RunningMoments.Combine(acc[t], _aggregate[(node * _outcomes) + t]);
                }

                count += _nodes[node].Size;
                return;
            }

            var leftSize = SizeOf(_nodes[node].Left);
            if (to <= leftSize)
            {
                node = _nodes[node].Left;
                continue;
            }

            if (from > leftSize)
            {
                from -= leftSize + 1;
                to -= leftSize + 1;
                node = _nodes[node].Right;
                continue;
            }

            // The range straddles this node.
            Collect(_nodes[node].Left, from, leftSize, acc, ref count);
            for (var t = 0; t < acc.Length; t++)
            {
                acc[t] = RunningMoments.Combine(acc[t], Single(_values[(node * _outcomes) + t]));
            }

            count++;
            from = 0;
            to -= leftSize + 1;
            node = _nodes[node].Right;
        }
    }

    private int Allocate()
    {
        if (_free.Count > 0)
        {
            return _free.Pop();
        }

        if (_used == _nodes.Length)
        {
            var capacity = _nodes.Length * 2;
            Array.Resize(ref _nodes, capacity);
            Array.Resize(ref _values, capacity * _outcomes);
            Array.Resize(ref _aggregate, capacity * _outcomes);
        }

        return _used++;
    }

    private void Update(int node)
    {
        var left = _nodes[node].Left;
        var right = _nodes[node].Right;
        _nodes[node].Size = 1 + SizeOf(left) + SizeOf(right);
        var baseIndex = node * _outcomes;
        for (var t = 0; t < _outcomes; t++)
        {
            _aggregate[baseIndex + t] = RunningMoments.CombineWithValue(
                left != Nil ? ref _aggregate[(left * _outcomes) + t] : ref _empty,
                _values[baseIndex + t],
                right != Nil ? ref _aggregate[(right * _outcomes) + t] : ref _empty);
        }
    }

    /// <summary>Splits into keys &lt; (value, id) and keys ≥ (value, id).</summary>
    private (int Left, int Right) Split(int node, double value, long id)
    {
        if (node == Nil)
        {
            return (Nil, Nil);
        }

        if (Less(_nodes[node].Key, _nodes[node].Id, value, id))
        {
            var (l, r) = Split(_nodes[node].Right, value, id);
            _nodes[node].Right = l;
            Update(node);
            return (node, r);
        }
        else
        {
            var (l, r) = Split(_nodes[node].Left, value, id);
            _nodes[node].Left = r;
            Update(node);
            return (l, node);
        }
    }

    private int Join(int left, int right)
    {
        if (left == Nil)
        {
            return right;
        }

        if (right == Nil)
        {
            return left;
        }

        if (_nodes[left].Priority > _nodes[right].Priority)
        {
            _nodes[left].Right = Join(_nodes[left].Right, right);
            Update(left);
            return left;
        }

        _nodes[right].Left = Join(left, _nodes[right].Left);
        Update(right);
        return right;
    }

    /// <summary>Treap insertion in one descent: split the subtree where the new node's priority wins.</summary>
    private int InsertNode(int node, int item)
    {
        if (node == Nil)
        {
            return item;
        }

        if (_nodes[item].Priority > _nodes[node].Priority)
        {
            var (l, r) = Split(node, _nodes[item].Key, _nodes[item].Id);
            _nodes[item].Left = l;
            _nodes[item].Right = r;
            Update(item);
            return item;
        }

        if (Less(_nodes[item].Key, _nodes[item].Id, _nodes[node].Key, _nodes[node].Id))
        {
            _nodes[node].Left = InsertNode(_nodes[node].Left, item);
        }
        else
        {
            _nodes[node].Right = InsertNode(_nodes[node].Right, item);
        }

        Update(node);
        return node;
    }

    /// <summary>Treap deletion in one descent: the found node is replaced by the join of its children.</summary>
    private int RemoveNode(int node, double value, long id)
    {
        if (_nodes[node].Id == id)
        {
            return Join(_nodes[node].Left, _nodes[node].Right);
        }

        if (Less(value, id, _nodes[node].Key, _nodes[node].Id))
        {
            _nodes[node].Left = RemoveNode(_nodes[node].Left, value, id);
        }
        else
        {
            _nodes[node].Right = RemoveNode(_nodes[node].Right, value, id);
        }

        Update(node);
        return node;
    }

    /// <summary>Array-of-structs node: one cache line per visited level.</summary>
    private struct NodeData
    {
        public int Left;
        public int Right;
        public int Size;
        public ulong Priority;
        public double Key;
        public long Id;
    }
}
