namespace HomaBone.Qct.Series;

/// <summary>Identity, protocol and geometry facts of a loaded CT series.</summary>
public sealed record CtSeriesInfo
{
    /// <summary>Patient ID (0010,0020).</summary>
    public string? PatientId { get; init; }

    /// <summary>Patient's Weight (0010,1030), kg; null when absent or not positive.</summary>
    public double? PatientWeightKg { get; init; }

    /// <summary>Patient's Size (0010,1020), m; null when absent.</summary>
    public double? PatientSizeM { get; init; }

    /// <summary>KVP (0018,0060).</summary>
    public double? Kvp { get; init; }

    /// <summary>Exposure (0018,1152), mAs.</summary>
    public double? ExposureMas { get; init; }

    /// <summary>Convolution Kernel (0018,1210).</summary>
    public string? ConvolutionKernel { get; init; }

    /// <summary>Slice Thickness (0018,0050), mm.</summary>
    public double? SliceThicknessMm { get; init; }

    /// <summary>Manufacturer (0008,0070).</summary>
    public string? Manufacturer { get; init; }

    /// <summary>Series Instance UID.</summary>
    public required string SeriesInstanceUid { get; init; }

    /// <summary>Frame of Reference UID.</summary>
    public string? FrameOfReferenceUid { get; init; }

    /// <summary>Lossy Image Compression (0028,2110) = "01" on any slice.</summary>
    public bool LossyCompressed { get; init; }

    /// <summary>Number of image slices in the volume.</summary>
    public int SliceCount { get; init; }

    /// <summary>Localizer images skipped.</summary>
    public int SkippedLocalizers { get; init; }
}

/// <summary>A loaded, checked CT series: volume in HU plus its facts.</summary>
/// <param name="Info">Identity and protocol.</param>
/// <param name="Volume">Rescaled values (HU), padding as NaN.</param>
public sealed record CtSeries(CtSeriesInfo Info, CtVolume Volume);
