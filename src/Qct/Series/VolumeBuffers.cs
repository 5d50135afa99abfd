namespace HomaBone.Qct.Series;

/// <summary>
/// Reuses the analysis's whole-volume arrays (the HU volume, the label volume: ~130 MB for 512 × 512 × 101) from one
/// request to the next. A fresh array of that size is new memory to the process each time (page faults, zeroing) and
/// counts against the GC's large-object budget; series of one protocol share a size, so the next analysis takes the
/// previous one's array. At most <see cref="SlotsPerType"/> arrays per element type are kept, only of at least
/// <see cref="MinimumBytes"/> and at most <see cref="MaximumBytes"/> (an eighth of the memory available to the GC: a
/// small pod keeps none of a large series), and all are released after <see cref="IdleRelease"/> without a request. A
/// rented array's contents are undefined (the loaders write every element).
/// </summary>
internal static class VolumeBuffers
{
    /// <summary>Arrays kept per element type (two concurrent analyses of one size both reuse).</summary>
    public const int SlotsPerType = 2;

    /// <summary>Smaller arrays are left to the GC.</summary>
    public const int MinimumBytes = 1 << 20;

    /// <summary>Larger arrays are left to the GC: an eighth of the memory available to it (container limits included).</summary>
    public static readonly long MaximumBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8;

    /// <summary>How long kept arrays outlive the last request.</summary>
    public static readonly TimeSpan IdleRelease = TimeSpan.FromSeconds(30);

    private static readonly Timer IdleTimer = new(static _ => Release(), null, Timeout.Infinite, Timeout.Infinite);

    /// <summary>An array of exactly <paramref name="length"/> elements, kept or new; contents undefined.</summary>
    public static T[] Rent<T>(int length)
        where T : unmanaged
    {
        IdleTimer.Change(IdleRelease, Timeout.InfiniteTimeSpan);
        var slots = Slots<T>.Arrays;
        for (var s = 0; s < slots.Length; s++)
        {
            var kept = Volatile.Read(ref slots[s]);
            if (kept is not null && kept.Length == length && Interlocked.CompareExchange(ref slots[s], null, kept) == kept)
            {
                return kept;
            }
        }

        return GC.AllocateUninitializedArray<T>(length);
    }

    /// <summary>Keeps <paramref name="array"/> for a later <see cref="Rent{T}"/>; the caller no longer uses it.</summary>
    public static void Return<T>(T[]? array)
        where T : unmanaged
    {
        var bytes = (long)(array?.Length ?? 0) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (array is null || bytes < MinimumBytes || bytes > MaximumBytes)
        {
            return;
        }

        var slots = Slots<T>.Arrays;
        for (var s = 0; s < slots.Length; s++)
        {
            if (Interlocked.CompareExchange(ref slots[s], array, null) is null)
            {
                return;
            }
        }

        // Every slot taken: replace the first (the newest size is the likeliest next one).
        Volatile.Write(ref slots[0], array);
    }

    /// <summary>Drops every kept array (also done after <see cref="IdleRelease"/> without a request).</summary>
    public static void Release()
    {
        Array.Clear(Slots<float>.Arrays);
        Array.Clear(Slots<byte>.Arrays);
    }

    /// <summary>Kept arrays of one element type (tests).</summary>
    internal static int Kept<T>()
        where T : unmanaged => Slots<T>.Arrays.Count(a => a is not null);

    private static class Slots<T>
    {
        public static readonly T[]?[] Arrays = new T[]?[SlotsPerType];
    }
}
