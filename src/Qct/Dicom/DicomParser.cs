using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace HomaBone.Qct.Dicom;

/// <summary>
/// Reads a data set from a byte buffer under <see cref="DicomReadOptions"/> limits. Every declared length is checked
/// against the remaining bytes of its enclosing element before use, so nothing is allocated from a lying length;
/// values are slices of the buffer (copied only to swap big-endian binary values).
/// </summary>
internal sealed class DicomParser
{
    private const uint UndefinedLength = 0xFFFFFFFF;

    /// <summary>Nesting is parsed recursively; this cap keeps the stack bounded whatever the options say.</summary>
    private const int HardNestingLimit = 256;

    private readonly byte[] _buffer;
    private readonly int _length;
    private readonly DicomReadOptions _options;
    private int _position;
    private bool _bigEndian;
    private bool _explicitVR;
    private int _elementCount;

    public DicomParser(byte[] buffer, int start, DicomReadOptions options)
        : this(buffer, start, buffer.Length, options)
    {
    }

    /// <summary>Reads <paramref name="buffer"/>[<paramref name="start"/>..<paramref name="length"/>); bytes beyond are never read.</summary>
    public DicomParser(byte[] buffer, int start, int length, DicomReadOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, buffer.Length);
        _buffer = buffer;
        _length = length;
        _position = start;
        _options = options;
    }

    public int Position => _position;

    /// <summary>Reads the file meta group (explicit VR LE) while the group number is 0002.</summary>
    public DicomDataset ReadMetaGroup()
    {
        _explicitVR = true;
        _bigEndian = false;
        var meta = new DicomDataset(Encoding.ASCII);
        while (_length - _position >= 6
            && BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(_position)) == 0x0002)
        {
            var element = ReadElement(_length, depth: 0, meta.TextEncoding, out _);
            meta.Add(element);
        }

        return meta;
    }

    /// <summary>Reads the main data set to the end of the buffer.</summary>
    public DicomDataset ReadDataset(bool explicitVR, bool bigEndian, Encoding? encoding)
    {
        _explicitVR = explicitVR;
        _bigEndian = bigEndian;
        return ReadItems(_length, depth: 0, untilItemDelimiter: false, encoding);
    }

    private DicomDataset ReadItems(int end, int depth, bool untilItemDelimiter, Encoding? encoding)
    {
        var dataset = new DicomDataset(encoding);
        while (_position < end)
        {
            if (_options.SkipPixelData && depth == 0 && end - _position >= 4 && PeekTag() == DicomTag.PixelData)
            {
                _position = end;
                break;
            }

            var element = ReadElement(end, depth, dataset.TextEncoding, out var delimiter);
            if (delimiter)
            {
                if (untilItemDelimiter)
                {
                    return dataset;
                }

                throw Fail($"Unexpected delimiter {element.Tag} outside an undefined-length item");
            }

            // PS3.5 §7.1 requires ascending order; out-of-order writers are tolerated, a repeated tag is not.
            if (dataset.Contains(element.Tag))
            {
                throw Fail($"Duplicate attribute {element.Tag}");
            }

            dataset.Add(element);
        }

        if (untilItemDelimiter)
        {
            throw Fail("Undefined-length item is not terminated by an item delimiter before the end of its container (truncated file?)");
        }

        if (_position != end)
        {
            throw Fail("Item contents overrun the declared item length");
        }

        return dataset;
    }

    private DicomTag PeekTag()
    {
        var span = _buffer.AsSpan(_position, 4);
        return _bigEndian
            ? new DicomTag(BinaryPrimitives.ReadUInt16BigEndian(span), BinaryPrimitives.ReadUInt16BigEndian(span[2..]))
            : new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(span), BinaryPrimitives.ReadUInt16LittleEndian(span[2..]));
    }

    private DicomElement ReadElement(int end, int depth, Encoding encoding, out bool isDelimiter)
    {
        isDelimiter = false;
        if (++_elementCount > _options.MaxElementCount)
        {
            throw Fail($"More than {_options.MaxElementCount} elements (MaxElementCount)");
        }

        var headerStart = _position;
        Require(end, 8, "element header");
        var tag = ReadTag();
        DicomVR vr;
        uint length;
        if (tag.Group == 0xFFFE)
        {
            length = ReadUInt32();
            if (tag == DicomTag.ItemDelimitationItem)
            {
                isDelimiter = true;
                return new DicomElement(tag, DicomVR.UN, ReadOnlyMemory<byte>.Empty);
            }

            throw Fail($"Unexpected item tag {tag} in a data set", headerStart);
        }

        if (_explicitVR)
        {
            var b0 = _buffer[_position];
            var b1 = _buffer[_position + 1];
            if (!DicomVR.TryParse(b0, b1, out vr))
            {
                throw Fail($"Invalid VR bytes 0x{b0:X2} 0x{b1:X2} for {tag} (not explicit VR, or corrupt)", headerStart);
            }

            _position += 2;
            if (vr.HasLongLength)
            {
                Require(end, 6, "element header");
                _position += 2;
                length = ReadUInt32();
            }
            else
            {
                length = ReadUInt16();
            }
        }
        else
        {
            vr = DicomDictionary.Lookup(tag);
            length = ReadUInt32();
        }

        if (length == UndefinedLength)
        {
            if (tag == DicomTag.PixelData)
            {
                throw Fail("Pixel Data has undefined length (encapsulated) but the transfer syntax is native", headerStart);
            }

            if (vr == DicomVR.SQ || vr == DicomVR.UN)
            {
                // PS3.5 §6.2.2: undefined-length UN is a sequence encoded in implicit VR little endian.
                var saved = (_explicitVR, _bigEndian);
                if (vr == DicomVR.UN)
                {
                    _explicitVR = false;
                    _bigEndian = false;
                }

                var sequence = ReadSequence(tag, end, undefined: true, depth + 1, encoding);
                (_explicitVR, _bigEndian) = saved;
                return new DicomElement(tag, DicomVR.SQ, ReadOnlyMemory<byte>.Empty, sequence);
            }

            throw Fail($"Undefined length on {tag} with VR {vr} (only SQ and UN may have undefined length)", headerStart);
        }

        if (length > _options.MaxElementLength)
        {
            throw Fail($"{tag} declares length {length} above MaxElementLength {_options.MaxElementLength}", headerStart);
        }

        if (length > (uint)(end - _position))
        {
            throw Fail($"{tag} declares length {length} but only {end - _position} bytes remain in its container (truncated or lying length)", headerStart);
        }

        if ((length & 1) == 1 && !_options.AllowOddLengths)
        {
            throw Fail($"{tag} has odd length {length} (PS3.5 §7.1.1 requires even lengths)", headerStart);
        }

        var valueLength = (int)length;
        if (vr == DicomVR.SQ)
        {
            var sequenceEnd = _position + valueLength;
            var sequence = ReadSequence(tag, sequenceEnd, undefined: false, depth + 1, encoding);
            return new DicomElement(tag, vr, ReadOnlyMemory<byte>.Empty, sequence);
        }

        var memory = new ReadOnlyMemory<byte>(_buffer, _position, valueLength);
        if (_bigEndian && vr.UnitSize > 1)
        {
            memory = Swap(memory.Span, vr.UnitSize);
        }
        else if (_bigEndian && tag == DicomTag.PixelData && valueLength % 2 == 0)
        {
            // OB pixel data in big endian: the reader only decodes 16-bit pixels, which are words in file order.
            memory = Swap(memory.Span, 2);
        }

        _position += valueLength;
        return new DicomElement(tag, vr, memory);
    }

    private DicomSequence ReadSequence(DicomTag tag, int end, bool undefined, int depth, Encoding encoding)
    {
        if (depth > Math.Min(_options.MaxNestingDepth, HardNestingLimit))
        {
            throw Fail($"Sequence nesting deeper than MaxNestingDepth {Math.Min(_options.MaxNestingDepth, HardNestingLimit)} at {tag}");
        }

        var items = new List<DicomDataset>();
        while (true)
        {
            if (!undefined && _position == end)
            {
                break;
            }

            if (++_elementCount > _options.MaxElementCount)
            {
                throw Fail($"More than {_options.MaxElementCount} elements (MaxElementCount)");
            }

            var itemStart = _position;
            Require(end, 8, $"item header in sequence {tag}");
            var itemTag = ReadTag();
            var length = ReadUInt32();
            if (itemTag == DicomTag.SequenceDelimitationItem)
            {
                if (!undefined)
                {
                    throw Fail($"Sequence delimiter inside defined-length sequence {tag}", itemStart);
                }

                break;
            }

            if (itemTag != DicomTag.Item)
            {
                throw Fail($"Expected an item in sequence {tag}, found {itemTag}", itemStart);
            }

            if (length == UndefinedLength)
            {
                items.Add(ReadItems(end, depth, untilItemDelimiter: true, encoding));
            }
            else
            {
                if (length > (uint)(end - _position))
                {
                    throw Fail($"Item in {tag} declares length {length} but only {end - _position} bytes remain", itemStart);
                }

                items.Add(ReadItems(_position + (int)length, depth, untilItemDelimiter: false, encoding));
            }
        }

        return new DicomSequence(tag, items);
    }

    private static byte[] Swap(ReadOnlySpan<byte> source, int unit)
    {
        if (source.Length % unit != 0)
        {
            throw new DicomFormatException($"Big-endian value length {source.Length} is not a multiple of {unit}");
        }

        var copy = source.ToArray();
        for (var i = 0; i < copy.Length; i += unit)
        {
            copy.AsSpan(i, unit).Reverse();
        }

        return copy;
    }

    private void Require(int end, int count, string what)
    {
        if (end - _position < count)
        {
            throw Fail($"Truncated: {what} needs {count} bytes, {end - _position} remain");
        }
    }

    private DicomTag ReadTag()
    {
        var group = ReadUInt16();
        var element = ReadUInt16();
        return new DicomTag(group, element);
    }

    private ushort ReadUInt16()
    {
        var span = _buffer.AsSpan(_position, 2);
        _position += 2;
        return _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(span) : BinaryPrimitives.ReadUInt16LittleEndian(span);
    }

    private uint ReadUInt32()
    {
        var span = _buffer.AsSpan(_position, 4);
        _position += 4;
        return _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(span) : BinaryPrimitives.ReadUInt32LittleEndian(span);
    }

    private DicomFormatException Fail(string message, int? offset = null) =>
        new($"{message} at byte offset {offset ?? _position}.") { Offset = offset ?? _position };

    /// <summary>Inflates a raw RFC 1951 stream, refusing output above <paramref name="maxBytes"/> (zip-bomb guard).</summary>
    public static byte[] Inflate(ReadOnlySpan<byte> compressed, long maxBytes)
    {
        try
        {
            using var input = new MemoryStream(compressed.ToArray(), writable: false);
            using var deflate = new DeflateStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = deflate.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (output.Length + read > maxBytes)
                {
                    throw new DicomFormatException($"Deflated data set inflates beyond MaxTotalSize {maxBytes} bytes.");
                }

                output.Write(chunk, 0, read);
            }

            return output.ToArray();
        }
        catch (InvalidDataException ex)
        {
            throw new DicomFormatException("Deflated data set is not a valid raw deflate (RFC 1951) stream.", ex);
        }
    }
}
