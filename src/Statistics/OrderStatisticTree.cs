namespace HomaBone.Statistics;

/// <summary>Summary of a contiguous rank range: count and per-outcome <see cref="RunningMoments"/>.</summary>
/// <param name="Count">Participants in the range.</param>
/// <param name="Outcomes">Moments of each tracked outcome (missing outcome values skipped).</param>
public sealed record RangeSummary(long Count, IReadOnlyList<RunningMoments> Outcomes);

/// <summary>
/// An order-statistic B+-tree (Bayer &amp; McCreight 1972 Acta Informatica 1:173; Comer 1979 Comput Surv
/// 11:121; augmented as in Cormen et al., Introduction to Algorithms ch. 14) keyed by (value, id). Leaves hold
/// up to <see cref="LeafCapacity"/> sorted entries with their outcome values; an internal node holds up to
/// <see cref="Fanout"/> children and, per child, its size and one Chan-mergeable <see cref="RunningMoments"/>
/// per tracked outcome. The height (leaves included) is 3 at a thousand participants and 5 at a million, so
/// an update touches a few contiguous arrays instead of ~2 ln n scattered nodes. The statistics of any
/// contiguous rank range — an xtile group — come out in O(log n · outcomes) and follow moving cut points
/// (methods.md §7.3); <see cref="Select"/> gives order statistics for the type-2 cut points.
/// <para>
/// Every stored summary is recomputed from scratch on the update path — a leaf's by a two-pass sum over its
/// entries, an internal child's by one k-way Chan merge of its own children's summaries — never by delta
/// (add/remove) updates, so rounding errors do not accumulate over any history. The node boundaries, and so
/// the last bits, depend on the insertion history; <see cref="Rebuild"/> repacks canonically, after which
/// every result is a bit-reproducible function of the set of (value, id) keys.
/// </para>
/// NaN keys are rejected (missing exposure = not in the tree).
/// </summary>
public sealed class OrderStatisticTree
{
    /// <summary>Maximum entries per leaf.</summary>
    internal const int LeafCapacity = 64;

    /// <summary>Maximum children per internal node.</summary>
    internal const int Fanout = 16;

    private const int MinLeaf = LeafCapacity / 4;
    private const int MinFanout = Fanout / 4;
    private const int LeafStride = LeafCapacity + 1;
    private const int InnerStride = Fanout + 1;
    private const int MaxDepth = 40;
    private const int RebuildLeafFill = LeafCapacity * 3 / 4;
    private const int RebuildFanout = Fanout * 7 / 8;

    private readonly int _outcomes;
    private readonly Dictionary<long, double>? _keys;
    private readonly Inner[] _path = new Inner[MaxDepth];
    private readonly int[] _slot = new int[MaxDepth];
    private Node _root;

    /// <summary>Creates an empty tree tracking <paramref name="outcomes"/> outcome variables per participant.</summary>
    /// <param name="outcomes">Number of tracked outcomes (≥ 0).</param>
    /// <param name="capacity">Expected number of participants (a sizing hint for the id index).</param>
    /// <param name="indexIds">
    /// Keep an id → key index (about 30 bytes per participant) so that <see cref="Remove(long)"/> finds a
    /// participant by id alone and duplicate ids are refused. Without it the caller, who knows each participant's
    /// key, removes with <see cref="Remove(long, double)"/> and must not insert an id twice.
    /// </param>
    public OrderStatisticTree(int outcomes, int capacity = 1024, bool indexIds = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(outcomes);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _outcomes = outcomes;
        if (indexIds)
        {
            _keys = new Dictionary<long, double>(capacity);
        }

        _root = new Leaf(outcomes);
    }

    /// <summary>Number of participants.</summary>
    public int Count => _root.Size;

    /// <summary>Number of tracked outcomes.</summary>
    public int OutcomeCount => _outcomes;

    /// <summary>Number of levels (1 = the root is a leaf): a balance diagnostic.</summary>
    internal int Height
    {
        get
        {
            var height = 1;
            for (var node = _root; node is Inner inner; node = inner.Children[0])
            {
                height++;
            }

            return height;
        }
    }

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

        if (_keys is not null && !_keys.TryAdd(id, value))
        {
            throw new ArgumentException($"Id {id} already present.", nameof(id));
        }

        var depth = Descend(value, id, out var leaf);
        var pos = leaf.LowerBound(value, id);
        if (_keys is null && pos < leaf.Count && leaf.Ids[pos] == id && leaf.Keys[pos].Equals(value))
        {
            throw new ArgumentException($"Id {id} already present with this key.", nameof(id));
        }

        leaf.InsertAt(pos, value, id, outcomes);

        // Bottom-up: split overfull nodes, refresh each child's size and summaries in its parent.
        Node? right = null;
        double sepKey = 0;
        long sepId = 0;
        if (leaf.Count > LeafCapacity)
        {
            right = leaf.Split(out sepKey, out sepId);
        }

        for (var level = depth - 1; level >= 0; level--)
        {
            var parent = _path[level];
            var c = _slot[level];
            Refresh(parent, c);
            if (right != null)
            {
                parent.InsertChild(c + 1, right, sepKey, sepId);
                Refresh(parent, c + 1);
                right = parent.Count > Fanout ? parent.Split(out sepKey, out sepId) : null;
                if (right != null)
                {
                    parent.Size = parent.SumSizes();
                    continue;
                }
            }

            parent.Size++;
        }

        if (right != null)
        {
            var root = new Inner(_outcomes);
            root.InsertChild(0, _root, 0, 0);
            root.InsertChild(1, right, sepKey, sepId);
            Refresh(root, 0);
            Refresh(root, 1);
            root.Size = root.SumSizes();
            _root = root;
        }
    }

    /// <summary>Removes participant <paramref name="id"/> (a tree with an id index).</summary>
    /// <param name="id">Participant id.</param>
    /// <returns>False when absent.</returns>
    public bool Remove(long id)
    {
        if (_keys is null)
        {
            throw new InvalidOperationException("This tree keeps no id index: remove with the participant's key.");
        }

        if (!_keys.TryGetValue(id, out var value))
        {
            return false;
        }

        return Remove(id, value);
    }

    /// <summary>Removes participant <paramref name="id"/> inserted with key <paramref name="value"/>.</summary>
    /// <param name="id">Participant id.</param>
    /// <param name="value">The key it was inserted with.</param>
    /// <returns>False when no entry (value, id) is held.</returns>
    public bool Remove(long id, double value)
    {
        if (double.IsNaN(value) || (_keys is not null && !(_keys.TryGetValue(id, out var held) && held.Equals(value))))
        {
            return false;
        }

        var depth = Descend(value, id, out var leaf);
        var pos = leaf.LowerBound(value, id);
        if (pos >= leaf.Count || leaf.Ids[pos] != id || !leaf.Keys[pos].Equals(value))
        {
            return _keys is null ? false : throw new InvalidOperationException("Order-statistic tree index is inconsistent.");
        }

        _keys?.Remove(id);

        leaf.RemoveAt(pos);
        for (var level = depth - 1; level >= 0; level--)
        {
            var parent = _path[level];
            var c = _slot[level];
            var child = parent.Children[c];
            if (child.Count < (child is Leaf ? MinLeaf : MinFanout) && parent.Count > 1)
            {
                Rebalance(parent, c);
                parent.Size = parent.SumSizes();
            }
            else
            {
                Refresh(parent, c);
                parent.Size--;
            }
        }

        while (_root is Inner { Count: 1 } single)
        {
            _root = single.Children[0];
        }

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
        while (node is Inner inner)
        {
            var c = 0;
            while (k > inner.Sizes[c])
            {
                k -= inner.Sizes[c];
                c++;
            }

            node = inner.Children[c];
        }

        return ((Leaf)node).Keys[k - 1];
    }

    /// <summary>#{participants with key ≤ x} — the exclusive upper rank bound of the xtile group ending at cut x.</summary>
    /// <param name="x">Threshold.</param>
    /// <returns>The count.</returns>
    public int CountAtMost(double x)
    {
        var count = 0;
        var node = _root;
        while (node is Inner inner)
        {
            // Children 0..c−1 lie below separator c ≤ (x, ∞), so all their keys are ≤ x; children after c
            // start at a separator with value > x.
            var c = 0;
            while (c + 1 < inner.Count && inner.SepKeys[c + 1] <= x)
            {
                count += inner.Sizes[c];
                c++;
            }

            node = inner.Children[c];
        }

        var leaf = (Leaf)node;
        var i = 0;
        while (i < leaf.Count && leaf.Keys[i] <= x)
        {
            i++;
        }

        return count + i;
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

    /// <summary>
    /// Repacks the tree canonically (leaves filled evenly to ¾ of capacity, internal nodes to ⅞) and
    /// recomputes every summary. Afterwards the structure, and so every result to the last bit, depends only on
    /// the set of (value, id) keys and their outcomes — not on the history of inserts and removals. O(n).
    /// </summary>
    public void Rebuild()
    {
        var n = Count;
        var keys = new double[n];
        var ids = new long[n];
        var values = new double[n * _outcomes];
        var k = 0;
        Flatten(_root, keys, ids, values, ref k);

        // Leaves: m = ⌈n / (¾ L)⌉, sizes differing by at most one (the larger ones first); internal levels alike
        // with ⅞ F children (leaves keep room for insertions; the internal levels stay shallow).
        var level = new List<Node>();
        var leaves = Math.Max(1, (n + RebuildLeafFill - 1) / RebuildLeafFill);
        var start = 0;
        for (var i = 0; i < leaves; i++)
        {
            var size = (n / leaves) + (i < n % leaves ? 1 : 0);
            var leaf = new Leaf(_outcomes);
            for (var j = 0; j < size; j++)
            {
                var e = start + j;
                leaf.Keys[j] = keys[e];
                leaf.Ids[j] = ids[e];
                for (var t = 0; t < _outcomes; t++)
                {
                    leaf.Values[(t * LeafStride) + j] = values[(t * n) + e];
                }
            }

            leaf.Count = size;
            leaf.Size = size;
            level.Add(leaf);
            start += size;
        }

        while (level.Count > 1)
        {
            var parents = (level.Count + RebuildFanout - 1) / RebuildFanout;
            var next = new List<Node>(parents);
            start = 0;
            for (var i = 0; i < parents; i++)
            {
                var size = (level.Count / parents) + (i < level.Count % parents ? 1 : 0);
                var inner = new Inner(_outcomes);
                for (var j = 0; j < size; j++)
                {
                    var child = level[start + j];
                    var (sepKey, sepId) = MinKey(child);
                    inner.InsertChild(j, child, sepKey, sepId);
                    Refresh(inner, j);
                }

                inner.Size = inner.SumSizes();
                next.Add(inner);
                start += size;
            }

            level = next;
        }

        _root = level[0];
    }

    /// <summary>
    /// Checks every structural invariant (order, separators, fill bounds, equal leaf depth, sizes, id index) and
    /// that every stored summary equals, bit for bit, its recomputation from the node's current contents.
    /// </summary>
    internal void Validate()
    {
        var leafDepth = -1;
        var total = Validate(_root, 0, true, ref leafDepth, double.NegativeInfinity, long.MinValue, double.PositiveInfinity, long.MaxValue, false);
        if (total != Count || (_keys is not null && total != _keys.Count))
        {
            throw new InvalidOperationException($"Size {Count}, counted {total}, indexed {_keys?.Count}.");
        }
    }

    private static (double Key, long Id) MinKey(Node node)
    {
        while (node is Inner inner)
        {
            node = inner.Children[0];
        }

        var leaf = (Leaf)node;
        return (leaf.Keys[0], leaf.Ids[0]);
    }

    private static bool Less(double v1, long id1, double v2, long id2) => v1 < v2 || (v1 == v2 && id1 < id2);

    private static void Fail(string message) => throw new InvalidOperationException(message);

    private long Validate(Node node, int depth, bool isRoot, ref int leafDepth, double loKey, long loId, double hiKey, long hiId, bool hasHi)
    {
        var min = node is Leaf ? MinLeaf : MinFanout;
        if (!isRoot && node.Count < min)
        {
            Fail($"Underfull node ({node.Count} < {min}).");
        }

        if (node is Leaf leaf)
        {
            if (leafDepth < 0)
            {
                leafDepth = depth;
            }
            else if (leafDepth != depth)
            {
                Fail("Leaves at different depths.");
            }

            for (var i = 0; i < leaf.Count; i++)
            {
                if (Less(leaf.Keys[i], leaf.Ids[i], loKey, loId) || (hasHi && !Less(leaf.Keys[i], leaf.Ids[i], hiKey, hiId)))
                {
                    Fail("Entry outside its separators.");
                }

                if (i > 0 && !Less(leaf.Keys[i - 1], leaf.Ids[i - 1], leaf.Keys[i], leaf.Ids[i]))
                {
                    Fail("Leaf out of order.");
                }

                if (_keys is not null && (!_keys.TryGetValue(leaf.Ids[i], out var key) || !key.Equals(leaf.Keys[i])))
                {
                    Fail("Id index disagrees with a leaf.");
                }
            }

            if (leaf.Size != leaf.Count)
            {
                Fail("Leaf size.");
            }

            return leaf.Count;
        }

        var inner = (Inner)node;
        if (inner.Count < (isRoot ? 2 : MinFanout))
        {
            Fail("Inner node with too few children.");
        }

        long total = 0;
        for (var c = 0; c < inner.Count; c++)
        {
            var lo = c == 0 ? (loKey, loId) : (inner.SepKeys[c], inner.SepIds[c]);
            var last = c == inner.Count - 1;
            var hi = last ? (hiKey, hiId) : (inner.SepKeys[c + 1], inner.SepIds[c + 1]);
            var size = Validate(inner.Children[c], depth + 1, false, ref leafDepth, lo.Item1, lo.Item2, hi.Item1, hi.Item2, !last || hasHi);
            if (size != inner.Sizes[c] || size != inner.Children[c].Size)
            {
                Fail("Child size.");
            }

            for (var t = 0; t < _outcomes; t++)
            {
                if (inner.Summaries[(t * InnerStride) + c] != SummaryOf(inner.Children[c], t))
                {
                    Fail("Stored summary differs from its recomputation.");
                }
            }

            total += size;
        }

        if (total != inner.Size)
        {
            Fail("Inner size.");
        }

        return total;
    }

    private void Flatten(Node node, double[] keys, long[] ids, double[] values, ref int k)
    {
        if (node is Inner inner)
        {
            for (var c = 0; c < inner.Count; c++)
            {
                Flatten(inner.Children[c], keys, ids, values, ref k);
            }

            return;
        }

        var leaf = (Leaf)node;
        var n = keys.Length;
        for (var i = 0; i < leaf.Count; i++, k++)
        {
            keys[k] = leaf.Keys[i];
            ids[k] = leaf.Ids[i];
            for (var t = 0; t < _outcomes; t++)
            {
                values[(t * n) + k] = leaf.Values[(t * LeafStride) + i];
            }
        }
    }

    /// <summary>Root-to-leaf descent for key (value, id), recording the path; returns its length.</summary>
    private int Descend(double value, long id, out Leaf leaf)
    {
        var depth = 0;
        var node = _root;
        while (node is Inner inner)
        {
            var c = 1;
            while (c < inner.Count && !Less(value, id, inner.SepKeys[c], inner.SepIds[c]))
            {
                c++;
            }

            _path[depth] = inner;
            _slot[depth] = c - 1;
            depth++;
            node = inner.Children[c - 1];
        }

        leaf = (Leaf)node;
        return depth;
    }

    private static RunningMoments SummaryOf(Node node, int t) => node is Leaf leaf
        ? RunningMoments.FromSpan(leaf.Values.AsSpan(t * LeafStride, leaf.Count))
        : RunningMoments.CombineMany(((Inner)node).Summaries.AsSpan(t * InnerStride, node.Count));

    /// <summary>Recomputes child <paramref name="c"/>'s size and summaries in <paramref name="parent"/>.</summary>
    private void Refresh(Inner parent, int c)
    {
        var child = parent.Children[c];
        parent.Sizes[c] = child.Size;
        for (var t = 0; t < _outcomes; t++)
        {
            parent.Summaries[(t * InnerStride) + c] = SummaryOf(child, t);
        }
    }

    /// <summary>Child <paramref name="c"/> of <paramref name="parent"/> is underfull: merge with or borrow from a neighbour.</summary>
    private void Rebalance(Inner parent, int c)
    {
        var a = c > 0 ? c - 1 : c; // the left one of the pair (a, a + 1)
        var left = parent.Children[a];
        var right = parent.Children[a + 1];
        var capacity = left is Leaf ? LeafCapacity : Fanout;
        var total = left.Count + right.Count;
        if (total <= capacity)
        {
            Move(parent, a, left, right, right.Count, toLeft: true);
            parent.RemoveChild(a + 1);
            Refresh(parent, a);
            return;
        }

        var target = total / 2;
        if (left.Count < target)
        {
            Move(parent, a, left, right, target - left.Count, toLeft: true);
        }
        else
        {
            Move(parent, a, left, right, left.Count - target, toLeft: false);
        }

        Refresh(parent, a);
        Refresh(parent, a + 1);
    }

    /// <summary>Moves <paramref name="k"/> entries or children across the boundary between siblings a and a + 1.</summary>
    private void Move(Inner parent, int a, Node left, Node right, int k, bool toLeft)
    {
        if (left is Leaf l)
        {
            var r = (Leaf)right;
            if (toLeft)
            {
                Leaf.Copy(r, 0, l, l.Count, k, _outcomes);
                Leaf.Copy(r, k, r, 0, r.Count - k, _outcomes);
                l.Count += k;
                r.Count -= k;
            }
            else
            {
                Leaf.Copy(r, 0, r, k, r.Count, _outcomes);
                Leaf.Copy(l, l.Count - k, r, 0, k, _outcomes);
                l.Count -= k;
                r.Count += k;
            }

            l.Size = l.Count;
            r.Size = r.Count;
            if (r.Count > 0)
            {
                parent.SepKeys[a + 1] = r.Keys[0];
                parent.SepIds[a + 1] = r.Ids[0];
            }

            return;
        }

        // Internal siblings: the parent's separator becomes the lower bound of the right node's first child, so
        // children move together with their separators.
        var li = (Inner)left;
        var ri = (Inner)right;
        ri.SepKeys[0] = parent.SepKeys[a + 1];
        ri.SepIds[0] = parent.SepIds[a + 1];
        if (toLeft)
        {
            Inner.Copy(ri, 0, li, li.Count, k, _outcomes);
            Inner.Copy(ri, k, ri, 0, ri.Count - k, _outcomes);
            li.Count += k;
            ri.Count -= k;
        }
        else
        {
            Inner.Copy(ri, 0, ri, k, ri.Count, _outcomes);
            Inner.Copy(li, li.Count - k, ri, 0, k, _outcomes);
            li.Count -= k;
            ri.Count += k;
        }

        Array.Clear(li.Children, li.Count, li.Children.Length - li.Count);
        Array.Clear(ri.Children, ri.Count, ri.Children.Length - ri.Count);
        parent.SepKeys[a + 1] = ri.SepKeys[0];
        parent.SepIds[a + 1] = ri.SepIds[0];
        li.Size = li.SumSizes();
        ri.Size = ri.SumSizes();
    }

    private static void Collect(Node node, int from, int to, RunningMoments[] acc, ref long count)
    {
        if (node is Leaf leaf)
        {
            for (var t = 0; t < acc.Length; t++)
            {
                acc[t] = RunningMoments.Combine(acc[t], RunningMoments.FromSpan(leaf.Values.AsSpan((t * LeafStride) + from, to - from)));
            }

            count += to - from;
            return;
        }

        var inner = (Inner)node;
        for (var c = 0; c < inner.Count && to > 0; c++)
        {
            var size = inner.Sizes[c];
            if (from < size)
            {
                if (from <= 0 && to >= size)
                {
                    for (var t = 0; t < acc.Length; t++)
                    {
                        acc[t] = RunningMoments.Combine(acc[t], inner.Summaries[(t * InnerStride) + c]);
                    }

                    count += size;
                }
                else
                {
                    Collect(inner.Children[c], Math.Max(from, 0), Math.Min(to, size), acc, ref count);
                }
            }

            from -= size;
            to -= size;
        }
    }

    private abstract class Node
    {
        /// <summary>Entries (leaf) or children (internal node).</summary>
        public int Count;

        /// <summary>Participants in the subtree.</summary>
        public int Size;
    }

    /// <summary>Up to <see cref="LeafCapacity"/> (+1 transiently) entries sorted by (key, id); outcome-major values.</summary>
    private sealed class Leaf(int outcomes) : Node
    {
        public readonly double[] Keys = new double[LeafStride];
        public readonly long[] Ids = new long[LeafStride];
        public readonly double[] Values = new double[LeafStride * outcomes];

        public static void Copy(Leaf src, int from, Leaf dst, int to, int k, int outcomes)
        {
            Array.Copy(src.Keys, from, dst.Keys, to, k);
            Array.Copy(src.Ids, from, dst.Ids, to, k);
            for (var t = 0; t < outcomes; t++)
            {
                Array.Copy(src.Values, (t * LeafStride) + from, dst.Values, (t * LeafStride) + to, k);
            }
        }

        /// <summary>First position whose (key, id) is ≥ (value, id).</summary>
        public int LowerBound(double value, long id)
        {
            var lo = 0;
            var hi = Count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (Less(Keys[mid], Ids[mid], value, id))
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }

        public void InsertAt(int pos, double value, long id, ReadOnlySpan<double> outcomes)
        {
            var tail = Count - pos;
            Keys.AsSpan(pos, tail).CopyTo(Keys.AsSpan(pos + 1));
            Ids.AsSpan(pos, tail).CopyTo(Ids.AsSpan(pos + 1));
            Keys[pos] = value;
            Ids[pos] = id;
            for (var t = 0; t < outcomes.Length; t++)
            {
                var row = t * LeafStride;
                Values.AsSpan(row + pos, tail).CopyTo(Values.AsSpan(row + pos + 1));
                Values[row + pos] = outcomes[t];
            }

            Count++;
            Size = Count;
        }

        public void RemoveAt(int pos)
        {
            var tail = Count - pos - 1;
            Keys.AsSpan(pos + 1, tail).CopyTo(Keys.AsSpan(pos));
            Ids.AsSpan(pos + 1, tail).CopyTo(Ids.AsSpan(pos));
            for (var row = 0; row < Values.Length; row += LeafStride)
            {
                Values.AsSpan(row + pos + 1, tail).CopyTo(Values.AsSpan(row + pos));
            }

            Count--;
            Size = Count;
        }

        /// <summary>Moves the upper half to a new right sibling; returns it and its first key (the new separator).</summary>
        public Leaf Split(out double sepKey, out long sepId)
        {
            var outcomes = Values.Length / LeafStride;
            var right = new Leaf(outcomes);
            var half = Count / 2;
            Copy(this, half, right, 0, Count - half, outcomes);
            right.Count = Count - half;
            right.Size = right.Count;
            Count = half;
            Size = half;
            sepKey = right.Keys[0];
            sepId = right.Ids[0];
            return right;
        }
    }

    /// <summary>
    /// Up to <see cref="Fanout"/> (+1 transiently) children. SepKeys/SepIds[c] (c ≥ 1) is a lower bound of child
    /// c's keys and an exclusive upper bound of child c − 1's; per child its size and, outcome-major, its summaries.
    /// </summary>
    private sealed class Inner(int outcomes) : Node
    {
        public readonly Node[] Children = new Node[InnerStride];
        public readonly int[] Sizes = new int[InnerStride];
        public readonly double[] SepKeys = new double[InnerStride];
        public readonly long[] SepIds = new long[InnerStride];
        public readonly RunningMoments[] Summaries = new RunningMoments[InnerStride * outcomes];

        public static void Copy(Inner src, int from, Inner dst, int to, int k, int outcomes)
        {
            Array.Copy(src.Children, from, dst.Children, to, k);
            Array.Copy(src.Sizes, from, dst.Sizes, to, k);
            Array.Copy(src.SepKeys, from, dst.SepKeys, to, k);
            Array.Copy(src.SepIds, from, dst.SepIds, to, k);
            for (var t = 0; t < outcomes; t++)
            {
                Array.Copy(src.Summaries, (t * InnerStride) + from, dst.Summaries, (t * InnerStride) + to, k);
            }
        }

        public int SumSizes()
        {
            var total = 0;
            for (var c = 0; c < Count; c++)
            {
                total += Sizes[c];
            }

            return total;
        }

        /// <summary>Inserts <paramref name="child"/> at <paramref name="c"/> (size and summaries to be refreshed by the caller).</summary>
        public void InsertChild(int c, Node child, double sepKey, long sepId)
        {
            var outcomes = Summaries.Length / InnerStride;
            Copy(this, c, this, c + 1, Count - c, outcomes);
            Children[c] = child;
            SepKeys[c] = sepKey;
            SepIds[c] = sepId;
            Count++;
        }

        public void RemoveChild(int c)
        {
            var outcomes = Summaries.Length / InnerStride;
            Copy(this, c + 1, this, c, Count - c - 1, outcomes);
            Count--;
            Children[Count] = null!;
        }

        /// <summary>Moves the upper half of the children to a new right sibling; the separator of its first child moves up.</summary>
        public Inner Split(out double sepKey, out long sepId)
        {
            var outcomes = Summaries.Length / InnerStride;
            var right = new Inner(outcomes);
            var half = Count / 2;
            Copy(this, half, right, 0, Count - half, outcomes);
            right.Count = Count - half;
            Array.Clear(Children, half, Count - half);
            Count = half;
            sepKey = right.SepKeys[0];
            sepId = right.SepIds[0];
            Size = SumSizes();
            right.Size = right.SumSizes();
            return right;
        }
    }
}
