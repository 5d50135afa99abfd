using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.Text;

namespace HomaBone.Qct.Dicom;

/// <summary>
/// An ordered set of DICOM attributes, with fo-dicom-shaped typed accessors
/// (<see cref="GetSingleValue{T}"/>, <see cref="TryGetSingleValue{T}"/>, <see cref="GetValues{T}"/>).
/// Text values are split on backslash, trimmed of padding (spaces; NULs for UIDs) and DS/IS are parsed with the
/// invariant culture. Supported value types: string, the .NET numeric primitives, decimal, <see cref="DicomTag"/>
/// (AT), byte (OB/UN) and <see cref="DicomDataset"/> (sequence items).
/// </summary>
public sealed class DicomDataset : IEnumerable<DicomElement>
{
    private readonly SortedDictionary<uint, DicomElement> _elements = [];

    internal DicomDataset(Encoding? encoding = null)
    {
        TextEncoding = encoding ?? Encoding.Latin1;
    }

    /// <summary>Encoding used for text values (from Specific Character Set; Latin-1 covers the ASCII default).</summary>
    internal Encoding TextEncoding { get; set; }

    /// <summary>Number of attributes at this level.</summary>
    public int Count => _elements.Count;

    internal void Add(DicomElement element)
    {
        _elements[element.Tag.Value] = element;
        if (element.Tag == DicomTag.SpecificCharacterSet)
        {
            var text = Encoding.ASCII.GetString(element.Buffer.Span);
            TextEncoding = text.Contains("ISO_IR 192", StringComparison.Ordinal) ? Encoding.UTF8 : Encoding.Latin1;
        }
    }

    /// <summary>True when the attribute is present (possibly empty).</summary>
    public bool Contains(DicomTag tag) => _elements.ContainsKey(tag.Value);

    /// <summary>The element, or null when absent.</summary>
    public DicomElement? GetElement(DicomTag tag) => _elements.GetValueOrDefault(tag.Value);

    /// <summary>All values of an attribute converted to <typeparamref name="T"/>.</summary>
    /// <exception cref="DicomDataException">Absent, or a value cannot be converted.</exception>
    public T[] GetValues<T>(DicomTag tag)
    {
        var element = GetElement(tag) ?? throw new DicomDataException($"Attribute {tag} is not present.");
        return Convert<T>(element);
    }

    /// <summary>The only value of an attribute.</summary>
    /// <exception cref="DicomDataException">Absent, empty, multi-valued or not convertible.</exception>
    public T GetSingleValue<T>(DicomTag tag)
    {
        var values = GetValues<T>(tag);
        return values.Length == 1
            ? values[0]
            : throw new DicomDataException($"Attribute {tag} has {values.Length} values; exactly one was expected.");
    }

    /// <summary>The only value of an attribute, or <paramref name="defaultValue"/> when absent or empty.</summary>
    /// <exception cref="DicomDataException">Present but multi-valued or not convertible.</exception>
    public T GetSingleValueOrDefault<T>(DicomTag tag, T defaultValue)
    {
        var element = GetElement(tag);
        if (element is null)
        {
            return defaultValue;
        }

        var values = Convert<T>(element);
        return values.Length switch
        {
            0 => defaultValue,
            1 => values[0],
            _ => throw new DicomDataException($"Attribute {tag} has {values.Length} values; exactly one was expected."),
        };
    }

    /// <summary>Tries to get the only value of an attribute; false when absent, empty, multi-valued or not convertible.</summary>
    public bool TryGetSingleValue<T>(DicomTag tag, out T value)
    {
        var element = GetElement(tag);
        if (element is not null)
        {
            try
            {
                var values = Convert<T>(element);
                if (values.Length == 1)
                {
                    value = values[0];
                    return true;
                }
            }
            catch (DicomDataException)
            {
            }
        }

        value = default!;
        return false;
    }

    /// <summary>Tries to get all values; false when absent or not convertible.</summary>
    public bool TryGetValues<T>(DicomTag tag, out T[] values)
    {
        var element = GetElement(tag);
        if (element is not null)
        {
            try
            {
                values = Convert<T>(element);
                return true;
            }
            catch (DicomDataException)
            {
            }
        }

        values = [];
        return false;
    }

    /// <summary>The whole text value (values joined by backslash), trimmed of padding.</summary>
    public string GetString(DicomTag tag) => string.Join('\\', GetValues<string>(tag));

    /// <summary>The sequence value of an SQ attribute.</summary>
    /// <exception cref="DicomDataException">Absent or not a sequence.</exception>
    public DicomSequence GetSequence(DicomTag tag)
    {
        var element = GetElement(tag) ?? throw new DicomDataException($"Attribute {tag} is not present.");
        return element.Sequence ?? throw new DicomDataException($"Attribute {tag} is {element.VR}, not a sequence.");
    }

    /// <summary>Tries to get a sequence value.</summary>
    public bool TryGetSequence(DicomTag tag, out DicomSequence sequence)
    {
        sequence = GetElement(tag)?.Sequence!;
        return sequence is not null;
    }

    /// <inheritdoc />
    public IEnumerator<DicomElement> GetEnumerator() => _elements.Values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private T[] Convert<T>(DicomElement element)
    {
        object[] raw = RawValues(element, typeof(T) == typeof(string));
        var result = new T[raw.Length];
        for (var i = 0; i < raw.Length; i++)
        {
            result[i] = ConvertOne<T>(element, raw[i]);
        }

        return result;
    }

    private static T ConvertOne<T>(DicomElement element, object value)
    {
        if (value is T typed)
        {
            return typed;
        }

        try
        {
            if (typeof(T) == typeof(string))
            {
                return (T)(object)(System.Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty);
            }

            if (value is string text)
            {
                var trimmed = text.Trim();
                if (trimmed.Length == 0)
                {
                    throw new DicomDataException($"Attribute {element.Tag} has an empty value.");
                }

                if (typeof(T) == typeof(decimal))
                {
                    return (T)(object)decimal.Parse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture);
                }

                object parsed = element.VR == DicomVR.IS
                    ? long.Parse(trimmed, NumberStyles.Integer, CultureInfo.InvariantCulture)
                    : double.Parse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (parsed is double d && IsIntegral(typeof(T)))
                {
                    if (d != Math.Floor(d))
                    {
                        throw new DicomDataException($"Attribute {element.Tag} value '{trimmed}' is not an integer.");
                    }

                    parsed = checked((long)d);
                }

                return (T)System.Convert.ChangeType(parsed, typeof(T), CultureInfo.InvariantCulture);
            }

            if (IsIntegral(typeof(T)) && value is float or double)
            {
                var d = System.Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (d != Math.Floor(d))
                {
                    throw new DicomDataException($"Attribute {element.Tag} value {d} is not an integer.");
                }
            }

            return (T)System.Convert.ChangeType(value, typeof(T), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or InvalidCastException)
        {
            throw new DicomDataException($"Attribute {element.Tag} ({element.VR}) value '{value}' cannot be read as {typeof(T).Name}.", ex);
        }
    }

    private static bool IsIntegral(Type type) =>
        type == typeof(byte) || type == typeof(sbyte) || type == typeof(short) || type == typeof(ushort)
        || type == typeof(int) || type == typeof(uint) || type == typeof(long) || type == typeof(ulong);

    private object[] RawValues(DicomElement element, bool wantText)
    {
        var span = element.Buffer.Span;
        var vr = element.VR;
        switch (vr.Kind)
        {
            case VRKind.Sequence:
                return element.Sequence is null ? [] : [.. element.Sequence.Items];
            case VRKind.Text:
                return SplitText(vr, TextEncoding.GetString(span));
            case VRKind.Bytes when wantText:
                return SplitText(DicomVR.LO, TextEncoding.GetString(span));
            case VRKind.Bytes:
                {
                    var bytes = new object[span.Length];
                    for (var i = 0; i < span.Length; i++)
                    {
                        bytes[i] = span[i];
                    }

                    return bytes;
                }

            case VRKind.Tag:
                {
                    var count = span.Length / 4;
                    var tags = new object[count];
                    for (var i = 0; i < count; i++)
                    {
                        tags[i] = new DicomTag(
                            BinaryPrimitives.ReadUInt16LittleEndian(span[(4 * i)..]),
                            BinaryPrimitives.ReadUInt16LittleEndian(span[((4 * i) + 2)..]));
                    }

                    return tags;
                }

            default:
                {
                    var size = vr.UnitSize;
                    if (span.Length % size != 0)
                    {
                        throw new DicomDataException($"Attribute {element.Tag} ({vr}) length {span.Length} is not a multiple of {size}.");
                    }

                    var count = span.Length / size;
                    var values = new object[count];
                    for (var i = 0; i < count; i++)
                    {
                        var s = span.Slice(i * size, size);
                        values[i] = vr.Code switch
                        {
                            "US" or "OW" => BinaryPrimitives.ReadUInt16LittleEndian(s),
                            "SS" => BinaryPrimitives.ReadInt16LittleEndian(s),
                            "UL" or "OL" => BinaryPrimitives.ReadUInt32LittleEndian(s),
                            "SL" => BinaryPrimitives.ReadInt32LittleEndian(s),
                            "FL" or "OF" => BinaryPrimitives.ReadSingleLittleEndian(s),
                            "FD" or "OD" => BinaryPrimitives.ReadDoubleLittleEndian(s),
                            "SV" => BinaryPrimitives.ReadInt64LittleEndian(s),
                            _ => (object)BinaryPrimitives.ReadUInt64LittleEndian(s),
                        };
                    }

                    return values;
                }
        }
    }

    private static object[] SplitText(DicomVR vr, string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        if (!vr.IsMultiValuedText)
        {
            return [text.TrimEnd(' ', '\0')];
        }

        var parts = text.Split('\\');
        var values = new object[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            values[i] = parts[i].Trim(' ', '\0');
        }

        return values;
    }
}
