using System.Buffers.Binary;

namespace HomaBone.Qct.Dicom;

/// <summary>
/// A DICOM Part 10 file (or a bare data set): file meta information and the main data set.
/// Shaped like fo-dicom's <c>DicomFile</c> so that swapping in fo-dicom later is mechanical.
/// </summary>
public sealed class DicomFile
{
    private DicomFile(DicomDataset fileMetaInfo, DicomDataset dataset, DicomTransferSyntax syntax, bool hasPreamble)
    {
        FileMetaInfo = fileMetaInfo;
        Dataset = dataset;
        TransferSyntax = syntax;
        HasPreamble = hasPreamble;
    }

    /// <summary>The group 0002 attributes (empty for a bare data set without meta information).</summary>
    public DicomDataset FileMetaInfo { get; }

    /// <summary>The main data set.</summary>
    public DicomDataset Dataset { get; }

    /// <summary>The transfer syntax the data set was encoded with.</summary>
    public DicomTransferSyntax TransferSyntax { get; }

    /// <summary>True when the file had the 128-byte preamble and the DICM prefix.</summary>
    public bool HasPreamble { get; }

    /// <summary>Reads a file from disk.</summary>
    /// <exception cref="DicomFormatException">Malformed or above the limits of <paramref name="options"/>.</exception>
    /// <exception cref="DicomUnsupportedTransferSyntaxException">Encapsulated (compressed) pixel data.</exception>
    public static DicomFile Open(string path, DicomReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= DicomReadOptions.Default;
        var info = new FileInfo(path);
        if (info.Exists && info.Length > options.MaxTotalSize)
        {
            throw new DicomFormatException($"File '{info.Name}' is {info.Length} bytes, above MaxTotalSize {options.MaxTotalSize}.");
        }

        using var stream = File.OpenRead(path);
        return Open(stream, options);
    }

    /// <summary>Reads a file from a stream (read to its end, never beyond <see cref="DicomReadOptions.MaxTotalSize"/>).</summary>
    /// <exception cref="DicomFormatException">Malformed or above the limits of <paramref name="options"/>.</exception>
    /// <exception cref="DicomUnsupportedTransferSyntaxException">Encapsulated (compressed) pixel data.</exception>
    public static DicomFile Open(Stream stream, DicomReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= DicomReadOptions.Default;
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > options.MaxTotalSize)
            {
                throw new DicomFormatException($"Stream is larger than MaxTotalSize {options.MaxTotalSize} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        return Open(buffer.ToArray(), options);
    }

    /// <summary>Reads a file held in memory. The returned values may share <paramref name="bytes"/>; do not modify it afterwards.</summary>
    /// <exception cref="DicomFormatException">Malformed or above the limits of <paramref name="options"/>.</exception>
    /// <exception cref="DicomUnsupportedTransferSyntaxException">Encapsulated (compressed) pixel data.</exception>
    public static DicomFile Open(byte[] bytes, DicomReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Open(bytes, bytes.Length, options);
    }

    /// <summary>
    /// Reads a file held in the first <paramref name="length"/> bytes of <paramref name="bytes"/> (a reused upload
    /// buffer); the rest is never read. The returned values may share <paramref name="bytes"/>.
    /// </summary>
    /// <exception cref="DicomFormatException">Malformed or above the limits of <paramref name="options"/>.</exception>
    /// <exception cref="DicomUnsupportedTransferSyntaxException">Encapsulated (compressed) pixel data.</exception>
    public static DicomFile Open(byte[] bytes, int length, DicomReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, bytes.Length);
        options ??= DicomReadOptions.Default;
        if (length > options.MaxTotalSize)
        {
            throw new DicomFormatException($"Data is {length} bytes, above MaxTotalSize {options.MaxTotalSize}.");
        }

        var hasPreamble = length >= 132 && bytes[128] == 'D' && bytes[129] == 'I' && bytes[130] == 'C' && bytes[131] == 'M';
        var start = hasPreamble ? 132 : 0;
        var parser = new DicomParser(bytes, start, length, options);
        DicomDataset meta;
        DicomTransferSyntax syntax;
        if (LooksLikeMetaGroup(bytes, start, length))
        {
            meta = parser.ReadMetaGroup();
            if (!meta.TryGetSingleValue<string>(DicomTag.TransferSyntaxUID, out var uid) || uid.Length == 0)
            {
                throw new DicomFormatException("File meta information has no Transfer Syntax UID (0002,0010).");
            }

            syntax = DicomTransferSyntax.Lookup(uid);
        }
        else if (hasPreamble)
        {
            throw new DicomFormatException("DICM prefix is not followed by the file meta information group (0002).");
        }
        else
        {
            meta = new DicomDataset();
            syntax = GuessBareSyntax(bytes.AsSpan(0, length));
        }

        if (syntax.IsEncapsulated)
        {
            throw new DicomUnsupportedTransferSyntaxException(syntax);
        }

        DicomDataset dataset;
        if (syntax.IsDeflated)
        {
            var inflated = DicomParser.Inflate(bytes.AsSpan(parser.Position, length - parser.Position), options.MaxTotalSize);
            dataset = new DicomParser(inflated, 0, options).ReadDataset(explicitVR: true, bigEndian: false, null);
        }
        else
        {
            dataset = parser.ReadDataset(syntax.IsExplicitVR, syntax.IsBigEndian, null);
        }

        return new DicomFile(meta, dataset, syntax, hasPreamble);
    }

    private static bool LooksLikeMetaGroup(byte[] bytes, int start, int length) =>
        length - start >= 6
        && BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(start)) == 0x0002
        && DicomVR.TryParse(bytes[start + 4], bytes[start + 5], out _);

    /// <summary>
    /// A bare data set carries no transfer syntax: explicit VR is recognised by a valid VR after the first tag,
    /// big endian by a plausible group only when read big-endian; otherwise the DICOM default, implicit VR LE.
    /// </summary>
    private static DicomTransferSyntax GuessBareSyntax(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8)
        {
            throw new DicomFormatException($"Data is only {bytes.Length} bytes: not a DICOM data set.");
        }

        var explicitVR = DicomVR.TryParse(bytes[4], bytes[5], out _);
        var groupLE = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
        var groupBE = BinaryPrimitives.ReadUInt16BigEndian(bytes);
        if (explicitVR && groupBE <= 0x0028 && groupLE > 0x0028 && groupBE != 0)
        {
            return DicomTransferSyntax.ExplicitVRBigEndian;
        }

        return explicitVR ? DicomTransferSyntax.ExplicitVRLittleEndian : DicomTransferSyntax.ImplicitVRLittleEndian;
    }
}
