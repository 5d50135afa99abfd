namespace HomaBone.Qct.Dicom;

/// <summary>
/// Limits that keep reading a hostile file bounded in memory and time. Every declared length is checked
/// against these limits and against the bytes actually remaining before anything is allocated.
/// </summary>
public sealed record DicomReadOptions
{
    /// <summary>Default options: 1 GiB per file, 512 MiB per element, nesting depth 32, one million elements.</summary>
    public static DicomReadOptions Default { get; } = new();

    /// <summary>Largest accepted file (and largest inflated data set for deflated files), in bytes.</summary>
    public long MaxTotalSize { get; init; } = 1L << 30;

    /// <summary>Largest accepted value length of one element, in bytes.</summary>
    public long MaxElementLength { get; init; } = 512L << 20;

    /// <summary>Deepest accepted sequence nesting (a top-level sequence is depth 1; never more than 256).</summary>
    public int MaxNestingDepth { get; init; } = 32;

    /// <summary>Largest accepted number of elements and items in one file.</summary>
    public int MaxElementCount { get; init; } = 1_000_000;

    /// <summary>Accept odd value lengths (PS3.5 §7.1.1 requires even lengths); off by default.</summary>
    public bool AllowOddLengths { get; init; }

    /// <summary>Stop reading before the Pixel Data element (header-only reads).</summary>
    public bool SkipPixelData { get; init; }
}
