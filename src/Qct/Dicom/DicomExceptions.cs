namespace HomaBone.Qct.Dicom;

/// <summary>Base class of every error raised by the DICOM reader.</summary>
public class DicomException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DicomException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public DicomException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public DicomException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The bytes are not a well-formed DICOM Part 10 file or data set (truncated, lying lengths, nesting deeper
/// than allowed, sizes above the configured limits, odd lengths, invalid VRs). Raised in bounded time and memory.
/// </summary>
public class DicomFormatException : DicomException
{
    /// <summary>Creates the exception.</summary>
    public DicomFormatException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public DicomFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public DicomFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Byte offset (in the decoded data set stream) where the problem was detected, or −1.</summary>
    public long Offset { get; init; } = -1;
}

/// <summary>
/// The file uses a transfer syntax with encapsulated (compressed) pixel data, which this reader does not decode.
/// The message names the syntax and the remedy (decompress with <c>gdcmconv --raw</c> or <c>dcmdjpeg</c>).
/// </summary>
public class DicomUnsupportedTransferSyntaxException : DicomException
{
    /// <summary>Creates the exception.</summary>
    public DicomUnsupportedTransferSyntaxException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public DicomUnsupportedTransferSyntaxException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public DicomUnsupportedTransferSyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a transfer syntax, with the standard remedy in the message.</summary>
    public DicomUnsupportedTransferSyntaxException(DicomTransferSyntax syntax)
        : base(BuildMessage(syntax))
    {
        TransferSyntax = syntax;
    }

    /// <summary>The refused transfer syntax, when known.</summary>
    public DicomTransferSyntax? TransferSyntax { get; }

    private static string BuildMessage(DicomTransferSyntax syntax)
    {
        ArgumentNullException.ThrowIfNull(syntax);
        var lossy = syntax.IsLossy
            ? " It is a lossy syntax: lossy-compressed images are never acceptable for quantitative CT; request the original images."
            : string.Empty;
        return $"Transfer syntax {syntax.Uid} ({syntax.Name}) carries encapsulated (compressed) pixel data, which HomaBone does not decode. "
            + $"Convert the file to an uncompressed syntax first, e.g. 'gdcmconv --raw in.dcm out.dcm' (GDCM) or 'dcmdjpeg in.dcm out.dcm' (DCMTK).{lossy}";
    }
}

/// <summary>A requested attribute is missing, or its value cannot be converted to the requested type.</summary>
public class DicomDataException : DicomException
{
    /// <summary>Creates the exception.</summary>
    public DicomDataException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public DicomDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public DicomDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
