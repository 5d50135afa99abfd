namespace HomaBone.Qct;

/// <summary>
/// The input cannot be analysed: not a CT acquisition (Secondary Capture, other modality, multi-frame), mixed
/// series, missing or duplicate slices, gantry tilt, a label series not aligned with the CT, rods not found,
/// or a calibration that fails its quality gate. The message says what is wrong and, where possible, what to do.
/// </summary>
public class QctInputException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QctInputException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public QctInputException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public QctInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A short machine-readable reason, e.g. <c>secondary-capture</c>, <c>missing-slice</c>.</summary>
    public string Code { get; init; } = "invalid-input";
}

/// <summary>A non-fatal finding (protocol deviation, weak calibration, estimated axis), with a machine-readable code.</summary>
/// <param name="Code">Short machine-readable code, e.g. <c>protocol-kvp</c>.</param>
/// <param name="Message">Human-readable explanation.</param>
public sealed record QctWarning(string Code, string Message);
