using HomaBone.Contracts.V1;

namespace HomaBone.Analysis;

/// <summary>
/// The columns of a model's design matrix (without the intercept): catalogue variables, optionally log
/// transformed, and 0/1 dummies for every level but the first of a categorical term.
/// </summary>
internal sealed class ModelDesign
{
    private ModelDesign(List<(int Index, Transform Transform, double? Level)> columns, List<string> names)
    {
        Columns = columns;
        Names = names;
        Key = string.Join('|', columns.Select(c => $"{c.Index}:{(int)c.Transform}:{c.Level}"));
    }

    /// <summary>The columns: catalogue index, transform, dummy level (null for a numeric column).</summary>
    public IReadOnlyList<(int Index, Transform Transform, double? Level)> Columns { get; }

    /// <summary>Column names as reported in the coefficient table.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>A key that identifies the design's columns.</summary>
    public string Key { get; }

    /// <summary>Builds the design of <paramref name="terms"/> (every term's variable must exist).</summary>
    public static ModelDesign Build(IEnumerable<ModelTerm> terms)
    {
        var columns = new List<(int Index, Transform Transform, double? Level)>();
        var names = new List<string>();
        foreach (var term in terms)
        {
            var variable = Variables.TryGet(term.Variable, out var v) ? v : throw new InvalidOperationException(term.Variable);
            if (term.Categorical || variable.Kind == VariableKind.Ordinal)
            {
                // Dummies for every level but the first (reference): levels of the ordinal codes.
                foreach (var level in variable == Variables.PhysicalActivity ? new[] { 2.0, 3.0 } : [1.0])
                {
                    columns.Add((variable.Index, term.Transform, level));
                    names.Add($"{variable.Name}={level}");
                }
            }
            else
            {
                columns.Add((variable.Index, term.Transform, null));
                names.Add(Describe(term));
            }
        }

        return new ModelDesign(columns, names);
    }

    /// <summary>The term as reported: "log(x)" for a log-transformed term.</summary>
    public static string Describe(ModelTerm term) => term.Transform == Transform.Log ? $"log({term.Variable})" : term.Variable;

    /// <summary>Applies a transform; log of a non-positive value is missing (NaN).</summary>
    public static double Apply(double value, Transform transform) =>
        transform == Transform.Log ? (value > 0 ? Math.Log(value) : double.NaN) : value;

    /// <summary>Writes the row's design values into <paramref name="values"/>; false when any is missing.</summary>
    public bool TryExtract(double[] row, Span<double> values)
    {
        for (var c = 0; c < Columns.Count; c++)
        {
            var (index, transform, level) = Columns[c];
            var raw = row[index];
            if (double.IsNaN(raw))
            {
                return false;
            }

            var value = level is { } l ? (raw == l ? 1.0 : 0.0) : Apply(raw, transform);
            if (double.IsNaN(value))
            {
                return false;
            }

            values[c] = value;
        }

        return true;
    }
}
