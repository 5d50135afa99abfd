using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Xunit;

namespace HomaBone.TestSupport;

/// <summary>
/// Compares two answers field by field: doubles within a relative tolerance, everything else (counts, cut points,
/// labels, suppression) exactly. Shared by the grain and end-to-end tests.
/// </summary>
public static class AnswerComparer
{
    /// <summary>Walks two messages field by field: doubles within tolerance, everything else equal. Returns the worst relative difference.</summary>
    public static double Same(IMessage expected, IMessage actual, string path, Tolerance tolerance)
    {
        var worst = 0.0;
        foreach (var field in expected.Descriptor.Fields.InFieldNumberOrder())
        {
            var a = field.Accessor.GetValue(expected);
            var b = field.Accessor.GetValue(actual);
            var where = path + "." + field.Name;
            if (field.IsRepeated)
            {
                var la = ((System.Collections.IList)a).Cast<object>().ToList();
                var lb = ((System.Collections.IList)b).Cast<object>().ToList();
                Assert.True(la.Count == lb.Count, $"{where}: {la.Count} vs {lb.Count} elements");
                for (var i = 0; i < la.Count; i++)
                {
                    worst = Math.Max(worst, Value(field, la[i], lb[i], $"{where}[{i}]", expected, tolerance));
                }
            }
            else
            {
                worst = Math.Max(worst, Value(field, a, b, where, expected, tolerance));
            }
        }

        return worst;
    }

    private static double Value(FieldDescriptor field, object? a, object? b, string where, IMessage owner, Tolerance tolerance)
    {
        if (field.FieldType == FieldType.Message)
        {
            if (a is null || b is null)
            {
                Assert.True(a is null && b is null, $"{where}: one side missing");
                return 0;
            }

            return Same((IMessage)a, (IMessage)b, where, tolerance);
        }

        if (field.FieldType is FieldType.Double && a is double x && b is double y)
        {
            if (x == y || (double.IsNaN(x) && double.IsNaN(y)))
            {
                return 0;
            }

            var pValue = field.Name.Contains("p_value", StringComparison.Ordinal);
            var relative = Math.Abs(x - y) / Math.Max(Math.Max(Math.Abs(x), Math.Abs(y)), Scale(field.Name, owner));
            Assert.True(relative <= (pValue ? tolerance.P : tolerance.Estimate), string.Create(CultureInfo.InvariantCulture, $"{where}: {x:R} vs {y:R} (relative {relative:G3}) in {owner}"));
            return pValue ? 0 : relative;
        }

        if (field.Name == "note" && a is string na && b is string nb && na.Contains("rank", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        Assert.True(Equals(a, b), $"{where}: {a} vs {b}");
        return 0;
    }

    /// <summary>Relative tolerances: estimates and P values.</summary>
    public sealed record Tolerance(double Estimate, double P)
    {
        /// <summary>Incremental state vs its batch twin (the 1e-12).</summary>
        public static Tolerance Twin { get; } = new(1e-12, 1e-9);

        /// <summary>Co-moment regressions vs Householder QR (the R reference tolerances).</summary>
        public static Tolerance Qr { get; } = new(1e-10, 1e-8);
    }

    /// <summary>
    /// The scale a difference is judged against where the value itself can be near 0 by cancellation: an estimate
    /// against its standard error, a confidence limit against the other limit, R² and t against 1.
    /// </summary>
    private static double Scale(string name, IMessage owner)
    {
        double Field(string other) => owner.Descriptor.FindFieldByName(other) is { } f && f.Accessor.GetValue(owner) is double v ? Math.Abs(v) : 0;
        return name switch
        {
            "estimate" or "difference" => Field("standard_error"),
            "difference_sd" => Field("standard_error") / Math.Max(Field("reference_sd"), double.Epsilon),
            "lower_ci" => Field("upper_ci"),
            "upper_ci" => Field("lower_ci"),
            "lower_ci_sd" => Field("upper_ci_sd"),
            "upper_ci_sd" => Field("lower_ci_sd"),
            "r_squared" or "adjusted_r_squared" or "t_value" or "statistic" or "standardized_estimate" => 1,
            _ => 0,
        };
    }

}
