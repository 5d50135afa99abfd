namespace HomaBone.Statistics;

/// <summary>
/// The design matrix is (numerically) rank deficient: the named column is, within the relative tolerance,
/// a linear combination of the columns before it. HomaBone refuses such models instead of silently dropping
/// the column (R's <c>lm</c> reports NA, Stata omits with a note — either would change the model's meaning).
/// </summary>
public sealed class RankDeficientException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public RankDeficientException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Message.</param>
    public RankDeficientException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and inner exception.</summary>
    /// <param name="message">Message.</param>
    /// <param name="innerException">Inner exception.</param>
    public RankDeficientException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception naming the offending column.</summary>
    /// <param name="columnName">Name of the dependent column.</param>
    /// <param name="columnIndex">0-based index in the design (intercept included).</param>
    /// <param name="relativeDiagonal">|R_jj| / max|R_kk| of the column-scaled design.</param>
    /// <param name="tolerance">The tolerance it fell below.</param>
    public RankDeficientException(string columnName, int columnIndex, double relativeDiagonal, double tolerance)
        : base(string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"Design is rank deficient: column '{columnName}' (index {columnIndex}) is collinear with earlier columns (|R_jj|/max|R_kk| = {relativeDiagonal:G3} < {tolerance:G3})."))
    {
        ColumnName = columnName;
        ColumnIndex = columnIndex;
        RelativeDiagonal = relativeDiagonal;
        Tolerance = tolerance;
    }

    /// <summary>Name of the collinear column.</summary>
    public string? ColumnName { get; }

    /// <summary>0-based design index of the collinear column (intercept = 0 when present).</summary>
    public int ColumnIndex { get; } = -1;

    /// <summary>|R_jj| / max|R_kk| on the column-scaled design.</summary>
    public double RelativeDiagonal { get; }

    /// <summary>Tolerance used.</summary>
    public double Tolerance { get; }
}
