using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace HomaBone.Hosting;

/// <summary>
/// Gives Kestrel (its socket transport and every pipe of a connection) <see cref="LargeBlockMemoryPool"/>s instead of
/// its 4-KiB-block pool (HomaBone:TransportBlockKiB; docs/deployment.md, "Transport buffers").
/// </summary>
public sealed class LargeBlockMemoryPoolFactory(int blockBytes) : IMemoryPoolFactory<byte>, IDisposable
{
    private readonly List<LargeBlockMemoryPool> _pools = [];

    /// <summary>Pools created so far (Kestrel asks for one per transport queue and endpoint, not per connection).</summary>
    public int PoolsCreated
    {
        get
        {
            lock (_pools)
            {
                return _pools.Count;
            }
        }
    }

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new LargeBlockMemoryPool(blockBytes);
        lock (_pools)
        {
            _pools.Add(pool);
        }

        return pool;
    }

    public void Dispose()
    {
        lock (_pools)
        {
            _pools.ForEach(p => p.Dispose());
            _pools.Clear();
        }
    }
}

/// <summary>
/// A memory pool of pinned blocks of one size (e.g. 64 KiB). Kestrel's socket transport receives into whatever block
/// its pipe holds: with its own 4-KiB blocks a 100-MB upload (QctService.AnalyzeSeries) took ~27 000 receive calls and
/// as many trips through its read loop and HTTP/2 frame handling; with 64-KiB blocks about 1 700. Every block lent is
/// a whole block, so small requests hold more memory while in flight; blocks come back to the pool when a pipe releases
/// them. Idle memory is bounded twice: at most <see cref="MaxRetainedBytes"/> is kept per pool, and blocks that stayed unused
/// for a whole <see cref="TrimPeriod"/> are released (<see cref="Trim"/>).
/// </summary>
public sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    /// <summary>Most idle memory kept for reuse: 64 MiB, or 1/32 of the memory available to the GC if less.</summary>
    public static readonly long MaxRetainedBytes = Math.Min(64L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 32);

    /// <summary>How often blocks idle since the previous trim are released.</summary>
    public static readonly TimeSpan TrimPeriod = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly int _maxRetained;
    private readonly Timer? _trimTimer;
    private int _freeCount;
    private int _lowWater;
    private volatile bool _disposed;

    /// <param name="blockBytes">Size of every block (4 KiB to 1 MiB).</param>
    /// <param name="trimAutomatically">Release idle blocks every <see cref="TrimPeriod"/> (off in tests that call <see cref="Trim"/>).</param>
    public LargeBlockMemoryPool(int blockBytes, bool trimAutomatically = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockBytes, 4096);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockBytes, 1 << 20);
        BlockBytes = blockBytes;
        _maxRetained = (int)Math.Max(1, MaxRetainedBytes / blockBytes);
        if (trimAutomatically)
        {
            _trimTimer = new Timer(static state => ((LargeBlockMemoryPool)state!).Trim(), this, TrimPeriod, TrimPeriod);
        }
    }

    /// <summary>Size of every block.</summary>
    public int BlockBytes { get; }

    /// <summary>Blocks idle in the pool now.</summary>
    public int FreeBlocks => Volatile.Read(ref _freeCount);

    /// <inheritdoc />
    public override int MaxBufferSize => BlockBytes;

    /// <inheritdoc />
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockBytes);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_free.TryDequeue(out var block))
        {
            var free = Interlocked.Decrement(ref _freeCount);
            if (free < Volatile.Read(ref _lowWater))
            {
                Volatile.Write(ref _lowWater, free);
            }

            block.Lent = true;
            return block;
        }

        return new Block(this, GC.AllocateUninitializedArray<byte>(BlockBytes, pinned: true)) { Lent = true };
    }

    /// <summary>
    /// Releases as many blocks as stayed idle since the previous trim (the fewest free at any moment in between):
    /// a steady load keeps its working set, a burst's blocks go back to the GC a period after it ends.
    /// </summary>
    public void Trim()
    {
        var idle = Interlocked.Exchange(ref _lowWater, FreeBlocks);
        for (var i = 0; i < idle && _free.TryDequeue(out _); i++)
        {
            Interlocked.Decrement(ref _freeCount);
        }

        Volatile.Write(ref _lowWater, FreeBlocks);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _trimTimer?.Dispose();
        _free.Clear();
        Volatile.Write(ref _freeCount, 0);
    }

    private void Return(Block block)
    {
        if (!block.Lent)
        {
            return; // disposed twice: returned once
        }

        block.Lent = false;
        if (_disposed)
        {
            return;
        }

        if (Interlocked.Increment(ref _freeCount) > _maxRetained)
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }

        _free.Enqueue(block);
    }

    private sealed class Block(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        public bool Lent { get; set; }

        public Memory<byte> Memory { get; } = array;

        public void Dispose() => pool.Return(this);
    }
}
