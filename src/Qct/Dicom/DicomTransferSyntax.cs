namespace HomaBone.Qct.Dicom;

/// <summary>A DICOM transfer syntax (PS3.5 §10, PS3.6 Annex A) and how this reader treats it.</summary>
public sealed class DicomTransferSyntax
{
    private static readonly Dictionary<string, DicomTransferSyntax> Known = new(StringComparer.Ordinal);

    private DicomTransferSyntax(string uid, string name, bool explicitVR, bool bigEndian, bool deflated, bool encapsulated, bool lossy, bool register = true)
    {
        Uid = uid;
        Name = name;
        IsExplicitVR = explicitVR;
        IsBigEndian = bigEndian;
        IsDeflated = deflated;
        IsEncapsulated = encapsulated;
        IsLossy = lossy;
        if (register)
        {
            Known[uid] = this;
        }
    }

    /// <summary>The transfer syntax UID.</summary>
    public string Uid { get; }

    /// <summary>The name in PS3.6.</summary>
    public string Name { get; }

    /// <summary>Explicit VR encoding.</summary>
    public bool IsExplicitVR { get; }

    /// <summary>Big-endian byte order.</summary>
    public bool IsBigEndian { get; }

    /// <summary>The data set after the meta group is a raw RFC 1951 deflate stream.</summary>
    public bool IsDeflated { get; }

    /// <summary>Pixel data is encapsulated (compressed or fragment-wrapped); this reader refuses it.</summary>
    public bool IsEncapsulated { get; }

    /// <summary>A lossy compression: never acceptable for quantitative CT.</summary>
    public bool IsLossy { get; }

    /// <summary>Implicit VR Little Endian, the DICOM default.</summary>
    public static readonly DicomTransferSyntax ImplicitVRLittleEndian = new("1.2.840.10008.1.2", "Implicit VR Little Endian", false, false, false, false, false);

    /// <summary>Explicit VR Little Endian.</summary>
    public static readonly DicomTransferSyntax ExplicitVRLittleEndian = new("1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, false, false, false, false);

    /// <summary>Explicit VR Big Endian (retired).</summary>
    public static readonly DicomTransferSyntax ExplicitVRBigEndian = new("1.2.840.10008.1.2.2", "Explicit VR Big Endian", true, true, false, false, false);

    /// <summary>Deflated Explicit VR Little Endian.</summary>
    public static readonly DicomTransferSyntax DeflatedExplicitVRLittleEndian = new("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, false, true, false, false);

    /// <summary>Encapsulated Uncompressed Explicit VR Little Endian.</summary>
    public static readonly DicomTransferSyntax EncapsulatedUncompressed = new("1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian", true, false, false, true, false);

    /// <summary>JPEG Baseline (Process 1), lossy.</summary>
    public static readonly DicomTransferSyntax JPEGBaseline = new("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", true, false, false, true, true);

    /// <summary>JPEG Extended (Process 2 and 4), lossy.</summary>
    public static readonly DicomTransferSyntax JPEGExtended = new("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 and 4)", true, false, false, true, true);

    /// <summary>JPEG Lossless, Non-Hierarchical (Process 14).</summary>
    public static readonly DicomTransferSyntax JPEGLossless = new("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)", true, false, false, true, false);

    /// <summary>JPEG Lossless, First-Order Prediction (Process 14, SV1).</summary>
    public static readonly DicomTransferSyntax JPEGLosslessSV1 = new("1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])", true, false, false, true, false);

    /// <summary>JPEG-LS Lossless.</summary>
    public static readonly DicomTransferSyntax JPEGLSLossless = new("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression", true, false, false, true, false);

    /// <summary>JPEG-LS Near-Lossless, lossy.</summary>
    public static readonly DicomTransferSyntax JPEGLSNearLossless = new("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression", true, false, false, true, true);

    /// <summary>JPEG 2000 lossless only.</summary>
    public static readonly DicomTransferSyntax JPEG2000Lossless = new("1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)", true, false, false, true, false);

    /// <summary>JPEG 2000, possibly lossy.</summary>
    public static readonly DicomTransferSyntax JPEG2000 = new("1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression", true, false, false, true, true);

    /// <summary>RLE Lossless.</summary>
    public static readonly DicomTransferSyntax RLELossless = new("1.2.840.10008.1.2.5", "RLE Lossless", true, false, false, true, false);

    /// <summary>High-Throughput JPEG 2000 lossless only.</summary>
    public static readonly DicomTransferSyntax HTJ2KLossless = new("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)", true, false, false, true, false);

    /// <summary>High-Throughput JPEG 2000, possibly lossy.</summary>
    public static readonly DicomTransferSyntax HTJ2K = new("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression", true, false, false, true, true);

    /// <summary>Looks up a UID; unknown UIDs are treated as encapsulated (PS3.5 §A.4: every other syntax encapsulates).</summary>
    public static DicomTransferSyntax Lookup(string uid)
    {
        ArgumentNullException.ThrowIfNull(uid);
        var clean = uid.TrimEnd('\0', ' ');
        return Known.TryGetValue(clean, out var ts)
            ? ts
            : new DicomTransferSyntax(clean, "unknown or encapsulated transfer syntax", true, false, false, true, false, register: false);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Uid})";
}
