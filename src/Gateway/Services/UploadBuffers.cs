using System.Collections.Concurrent;

namespace HomaBone.Gateway.Services;

/// <summary>
/// Reused buffers for the bytes of uploaded QCT file chunks (AnalyzeSeries receives ~100 MB per series). Protobuf gives
/// every chunk a fresh array: memory new to the process on every request (a page fault per 4 KiB, measured at ~6 % of
/// the service's CPU, and zeroing). A buffer's size is the chunk's rounded up to 64 KiB; at most
/// <see cref="MaxRetainedBytes"/> is kept (256 MiB, or an eighth of the memory the GC may use, whichever is less: a
/// small pod keeps little), and all of it is released after <see cref="IdleRelease"/> without a request.
/// The caller hands a buffer back only when nothing refers to it any more.
/// </summary>
internal static class UploadBuffers
{
    /// <summary>Buffer sizes are multiples of this.</summary>
    public const int Granularity = 64 * 1024;

    /// <summary>Largest buffer lent (the protocol's largest chunk); larger chunks get plain arrays.</summary>
    public const int MaxBufferBytes = 1 << 20;

    /// <summary>Most idle memory kept: 256 MiB, or an eighth of the memory available to the GC if less.</summary>
    public static readonly long MaxRetainedBytes = Math.Min(256L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8);

    /// <summary>How long kept buffers outlive the last upload.</summary>
    public static readonly TimeSpan IdleRelease = TimeSpan.FromSeconds(30);

    private static readonly ConcurrentBag<byte[]>[] Free = [.. Enumerable.Range(0, MaxBufferBytes / Granularity).Select(_ => new ConcurrentBag<byte[]>())];
    // Rent stamps the time (a field write per chunk); a timer looks every few seconds whether the pool has been idle.
    private static readonly Timer IdleTimer = new(static _ => ReleaseIfIdle(), null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
    private static long _retainedBytes;
    private static long _lastRent;

    /// <summary>Bytes kept for reuse now.</summary>
    public static long RetainedBytes => Interlocked.Read(ref _retainedBytes);

    /// <summary>A buffer of at least <paramref name="length"/> bytes (contents undefined).</summary>
    public static byte[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0 || length > MaxBufferBytes)
        {
            return GC.AllocateUninitializedArray<byte>(length);
        }

        Volatile.Write(ref _lastRent, Environment.TickCount64);
        var sizeClass = (length - 1) / Granularity;
        if (Free[sizeClass].TryTake(out var kept))
        {
            Interlocked.Add(ref _retainedBytes, -kept.Length);
            return kept;
        }

        return GC.AllocateUninitializedArray<byte>((sizeClass + 1) * Granularity);
    }

    /// <summary>Keeps <paramref name="buffer"/> for reuse if it has a pooled size (any other array is left to the GC).</summary>
    public static void Return(byte[]? buffer)
    {
        if (buffer is null || buffer.Length == 0 || buffer.Length > MaxBufferBytes || buffer.Length % Granularity != 0)
        {
            return;
        }

        if (Interlocked.Add(ref _retainedBytes, buffer.Length) > MaxRetainedBytes)
        {
            Interlocked.Add(ref _retainedBytes, -buffer.Length);
            return;
        }

        Free[(buffer.Length / Granularity) - 1].Add(buffer);
    }

    private static void ReleaseIfIdle()
    {
        if (RetainedBytes > 0 && Environment.TickCount64 - Volatile.Read(ref _lastRent) >= (long)IdleRelease.TotalMilliseconds)
        {
            Release();
        }
    }

    /// <summary>Drops every kept buffer.</summary>
    public static void Release()
    {
        foreach (var bag in Free)
        {
            while (bag.TryTake(out var buffer))
            {
                Interlocked.Add(ref _retainedBytes, -buffer.Length);
            }
        }
    }
}
