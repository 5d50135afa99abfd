using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace HomaBone.Grains;

/// <summary>
/// Structural checks every message gets before any domain rule: no NaN or infinity in any double or float,
/// no enum value outside its declared set, no string longer than a bound. Field paths use the proto field
/// names joined by dots (repeated elements with [i]).
/// </summary>
public static class MessageScrubber
{
    /// <summary>Longest string accepted in any field.</summary>
    public const int MaxStringLength = 256;

    /// <summary>Appends a violation for every structural problem in <paramref name="message"/>.</summary>
    public static void Check(IMessage message, string prefix, List<FieldViolation> violations, int depth = 0)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(violations);
        if (depth > 16)
        {
            violations.Add(new FieldViolation(prefix, "message nesting is too deep"));
            return;
        }

        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var path = prefix.Length == 0 ? field.Name : prefix + "." + field.Name;
            var value = field.Accessor.GetValue(message);
            if (field.IsRepeated)
            {
                if (value is System.Collections.IList list)
                {
                    for (var i = 0; i < list.Count; i++)
                    {
                        CheckValue(field, list[i], $"{path}[{i}]", violations, depth);
                    }
                }

                continue;
            }

            if (field.HasPresence && !field.Accessor.HasValue(message))
            {
                continue;
            }

            CheckValue(field, value, path, violations, depth);
        }
    }

    private static void CheckValue(FieldDescriptor field, object? value, string path, List<FieldViolation> violations, int depth)
    {
        switch (field.FieldType)
        {
            case FieldType.Double when value is double d && !double.IsFinite(d):
                violations.Add(new FieldViolation(path, "must be a finite number; got " + (double.IsNaN(d) ? "NaN" : "infinity")));
                break;
            case FieldType.Float when value is float f && !float.IsFinite(f):
                violations.Add(new FieldViolation(path, "must be a finite number; got " + (float.IsNaN(f) ? "NaN" : "infinity")));
                break;
            case FieldType.Enum when value is not null:
                var number = Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
                if (field.EnumType.FindValueByNumber(number) is null)
                {
                    violations.Add(new FieldViolation(path, $"unknown value {number} of {field.EnumType.Name}"));
                }

                break;
            case FieldType.String when value is string s && s.Length > MaxStringLength:
                violations.Add(new FieldViolation(path, $"must be at most {MaxStringLength} characters; got {s.Length}"));
                break;
            case FieldType.Message when value is IMessage nested:
                Check(nested, path, violations, depth + 1);
                break;
            default:
                break;
        }
    }
}
