namespace HomaBone.Qct.Dicom;

/// <summary>A DICOM value representation (PS3.5 §6.2).</summary>
public sealed class DicomVR : IEquatable<DicomVR>
{
    private static readonly Dictionary<string, DicomVR> ByCode = new(StringComparer.Ordinal);

    private DicomVR(string code, VRKind kind, int unitSize, bool longLength, bool multiValued = true)
    {
        Code = code;
        Kind = kind;
        UnitSize = unitSize;
        HasLongLength = longLength;
        IsMultiValuedText = multiValued;
        ByCode[code] = this;
    }

    /// <summary>The two-letter code.</summary>
    public string Code { get; }

    internal VRKind Kind { get; }

    /// <summary>Size in bytes of one binary value, used for byte swapping; 1 for text and byte VRs.</summary>
    public int UnitSize { get; }

    /// <summary>Explicit VR uses 2 reserved bytes and a 32-bit length (OB OD OF OL OV OW SQ SV UC UN UR UT UV).</summary>
    public bool HasLongLength { get; }

    /// <summary>True for text VRs whose values are split on backslash (not LT, ST, UT, UR).</summary>
    internal bool IsMultiValuedText { get; }

    /// <summary>True for character-string VRs.</summary>
    public bool IsString => Kind is VRKind.Text;

    public static readonly DicomVR AE = new("AE", VRKind.Text, 1, false);
    public static readonly DicomVR AS = new("AS", VRKind.Text, 1, false);
    public static readonly DicomVR AT = new("AT", VRKind.Tag, 2, false);
    public static readonly DicomVR CS = new("CS", VRKind.Text, 1, false);
    public static readonly DicomVR DA = new("DA", VRKind.Text, 1, false);
    public static readonly DicomVR DS = new("DS", VRKind.Text, 1, false);
    public static readonly DicomVR DT = new("DT", VRKind.Text, 1, false);
    public static readonly DicomVR FD = new("FD", VRKind.Binary, 8, false);
    public static readonly DicomVR FL = new("FL", VRKind.Binary, 4, false);
    public static readonly DicomVR IS = new("IS", VRKind.Text, 1, false);
    public static readonly DicomVR LO = new("LO", VRKind.Text, 1, false);
    public static readonly DicomVR LT = new("LT", VRKind.Text, 1, false, multiValued: false);
    public static readonly DicomVR OB = new("OB", VRKind.Bytes, 1, true);
    public static readonly DicomVR OD = new("OD", VRKind.Binary, 8, true);
    public static readonly DicomVR OF = new("OF", VRKind.Binary, 4, true);
    public static readonly DicomVR OL = new("OL", VRKind.Binary, 4, true);
    public static readonly DicomVR OV = new("OV", VRKind.Binary, 8, true);
    public static readonly DicomVR OW = new("OW", VRKind.Binary, 2, true);
    public static readonly DicomVR PN = new("PN", VRKind.Text, 1, false);
    public static readonly DicomVR SH = new("SH", VRKind.Text, 1, false);
    public static readonly DicomVR SL = new("SL", VRKind.Binary, 4, false);
    public static readonly DicomVR SQ = new("SQ", VRKind.Sequence, 1, true);
    public static readonly DicomVR SS = new("SS", VRKind.Binary, 2, false);
    public static readonly DicomVR ST = new("ST", VRKind.Text, 1, false, multiValued: false);
    public static readonly DicomVR SV = new("SV", VRKind.Binary, 8, true);
    public static readonly DicomVR TM = new("TM", VRKind.Text, 1, false);
    public static readonly DicomVR UC = new("UC", VRKind.Text, 1, true);
    public static readonly DicomVR UI = new("UI", VRKind.Text, 1, false);
    public static readonly DicomVR UL = new("UL", VRKind.Binary, 4, false);
    public static readonly DicomVR UN = new("UN", VRKind.Bytes, 1, true);
    public static readonly DicomVR UR = new("UR", VRKind.Text, 1, true, multiValued: false);
    public static readonly DicomVR US = new("US", VRKind.Binary, 2, false);
    public static readonly DicomVR UT = new("UT", VRKind.Text, 1, true, multiValued: false);
    public static readonly DicomVR UV = new("UV", VRKind.Binary, 8, true);

    /// <summary>Looks up a VR by its two ASCII bytes; false when the bytes are not a known VR.</summary>
    public static bool TryParse(byte first, byte second, out DicomVR vr)
    {
        if (first is >= (byte)'A' and <= (byte)'Z' && second is >= (byte)'A' and <= (byte)'Z')
        {
            Span<char> code = [(char)first, (char)second];
            if (ByCode.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(code, out var found))
            {
                vr = found;
                return true;
            }
        }

        vr = UN;
        return false;
    }

    /// <summary>Looks up a VR by its code.</summary>
    public static DicomVR Parse(string code) =>
        ByCode.TryGetValue(code, out var vr) ? vr : throw new ArgumentException($"Unknown VR '{code}'.", nameof(code));

    /// <inheritdoc />
    public bool Equals(DicomVR? other) => ReferenceEquals(this, other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Code);

    /// <inheritdoc />
    public override string ToString() => Code;
}

internal enum VRKind
{
    Text,
    Binary,
    Tag,
    Bytes,
    Sequence,
}
