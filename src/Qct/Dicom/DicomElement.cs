namespace HomaBone.Qct.Dicom;

/// <summary>
/// One attribute as read. Binary values are held little-endian whatever the transfer syntax (big-endian files
/// are swapped per VR while reading). Sequences hold their items.
/// </summary>
public sealed class DicomElement
{
    internal DicomElement(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> buffer, DicomSequence? sequence = null)
    {
        Tag = tag;
        VR = vr;
        Buffer = buffer;
        Sequence = sequence;
    }

    /// <summary>The attribute tag.</summary>
    public DicomTag Tag { get; }

    /// <summary>The value representation (from the file, or the dictionary for implicit VR).</summary>
    public DicomVR VR { get; }

    /// <summary>The raw value bytes, little-endian normalised.</summary>
    public ReadOnlyMemory<byte> Buffer { get; }

    /// <summary>The items when the element is a sequence; otherwise null.</summary>
    public DicomSequence? Sequence { get; }

    /// <summary>Value length in bytes.</summary>
    public int Length => Buffer.Length;

    /// <inheritdoc />
    public override string ToString() => $"{Tag} {VR} length {Length}";
}

/// <summary>A sequence (SQ) value: an ordered list of item data sets.</summary>
public sealed class DicomSequence
{
    internal DicomSequence(DicomTag tag, IReadOnlyList<DicomDataset> items)
    {
        Tag = tag;
        Items = items;
    }

    /// <summary>The sequence tag.</summary>
    public DicomTag Tag { get; }

    /// <summary>The items, in file order.</summary>
    public IReadOnlyList<DicomDataset> Items { get; }
}
