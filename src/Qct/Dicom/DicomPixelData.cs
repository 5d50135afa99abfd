using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HomaBone.Qct.Dicom;

/// <summary>
/// Native (uncompressed) grayscale pixel data by frame, for the CT image pixel module: one sample per pixel,
/// MONOCHROME1/2, 16 bits allocated, 1–16 bits stored with High Bit = Bits Stored − 1. Stored values are masked to
/// Bits Stored and sign-extended from bit Bits Stored − 1 when Pixel Representation is 1; the modality LUT is
/// value × Rescale Slope + Rescale Intercept. Pixel Padding Value (and Range Limit) marks pixels outside the image.
/// </summary>
public sealed class DicomPixelData
{
    private readonly ReadOnlyMemory<byte> _data;

    private DicomPixelData(DicomDataset dataset, ReadOnlyMemory<byte> data)
    {
        _data = data;
        Rows = dataset.GetSingleValue<int>(DicomTag.Rows);
        Columns = dataset.GetSingleValue<int>(DicomTag.Columns);
        SamplesPerPixel = dataset.GetSingleValueOrDefault(DicomTag.SamplesPerPixel, 1);
        BitsAllocated = dataset.GetSingleValue<int>(DicomTag.BitsAllocated);
        BitsStored = dataset.GetSingleValueOrDefault(DicomTag.BitsStored, BitsAllocated);
        HighBit = dataset.GetSingleValueOrDefault(DicomTag.HighBit, BitsStored - 1);
        PixelRepresentation = dataset.GetSingleValueOrDefault(DicomTag.PixelRepresentation, 0);
        PhotometricInterpretation = dataset.GetSingleValueOrDefault(DicomTag.PhotometricInterpretation, "MONOCHROME2");
        NumberOfFrames = dataset.GetSingleValueOrDefault(DicomTag.NumberOfFrames, 1);
        RescaleSlope = dataset.GetSingleValueOrDefault(DicomTag.RescaleSlope, 1.0);
        RescaleIntercept = dataset.GetSingleValueOrDefault(DicomTag.RescaleIntercept, 0.0);

        if (SamplesPerPixel != 1 || PhotometricInterpretation is not ("MONOCHROME1" or "MONOCHROME2"))
        {
            throw new DicomDataException($"Only grayscale images are supported (Samples per Pixel {SamplesPerPixel}, {PhotometricInterpretation}).");
        }

        if (BitsAllocated != 16 || BitsStored is < 1 or > 16 || HighBit != BitsStored - 1)
        {
            throw new DicomDataException($"Unsupported pixel layout: Bits Allocated {BitsAllocated}, Bits Stored {BitsStored}, High Bit {HighBit} (need 16 allocated, High Bit = Bits Stored − 1).");
        }

        if (PixelRepresentation is not (0 or 1))
        {
            throw new DicomDataException($"Pixel Representation {PixelRepresentation} is not 0 or 1.");
        }

        if (Rows <= 0 || Columns <= 0 || NumberOfFrames <= 0)
        {
            throw new DicomDataException($"Invalid image size {Rows}×{Columns}×{NumberOfFrames}.");
        }

        if (!double.IsFinite(RescaleSlope) || RescaleSlope == 0 || !double.IsFinite(RescaleIntercept))
        {
            throw new DicomDataException($"Invalid Rescale Slope {RescaleSlope} / Intercept {RescaleIntercept}.");
        }

        var needed = (long)Rows * Columns * NumberOfFrames * 2;
        if (data.Length < needed)
        {
            throw new DicomFormatException($"Pixel Data holds {data.Length} bytes; {Rows}×{Columns}×{NumberOfFrames} frames of 16 bits need {needed}.");
        }

        var padding = dataset.GetElement(DicomTag.PixelPaddingValue);
        if (padding is { Length: >= 2 })
        {
            PaddingValue = Interpret(BinaryPrimitives.ReadUInt16LittleEndian(padding.Buffer.Span));
            var limit = dataset.GetElement(DicomTag.PixelPaddingRangeLimit);
            PaddingRangeLimit = limit is { Length: >= 2 } ? Interpret(BinaryPrimitives.ReadUInt16LittleEndian(limit.Buffer.Span)) : PaddingValue;
        }
    }

    /// <summary>Rows (image height).</summary>
    public int Rows { get; }

    /// <summary>Columns (image width).</summary>
    public int Columns { get; }

    /// <summary>Samples per pixel (always 1 here).</summary>
    public int SamplesPerPixel { get; }

    /// <summary>Bits allocated (always 16 here).</summary>
    public int BitsAllocated { get; }

    /// <summary>Bits stored.</summary>
    public int BitsStored { get; }

    /// <summary>High bit.</summary>
    public int HighBit { get; }

    /// <summary>0 unsigned, 1 two's complement.</summary>
    public int PixelRepresentation { get; }

    /// <summary>MONOCHROME1 or MONOCHROME2.</summary>
    public string PhotometricInterpretation { get; }

    /// <summary>Number of frames.</summary>
    public int NumberOfFrames { get; }

    /// <summary>Rescale slope (1 when absent).</summary>
    public double RescaleSlope { get; }

    /// <summary>Rescale intercept (0 when absent).</summary>
    public double RescaleIntercept { get; }

    /// <summary>Pixel Padding Value as a stored value, or null.</summary>
    public int? PaddingValue { get; }

    /// <summary>Pixel Padding Range Limit as a stored value (equals <see cref="PaddingValue"/> when absent), or null.</summary>
    public int? PaddingRangeLimit { get; }

    /// <summary>Reads the pixel module of a data set.</summary>
    /// <exception cref="DicomDataException">Missing or unsupported pixel module attributes.</exception>
    /// <exception cref="DicomFormatException">Pixel Data shorter than the module declares.</exception>
    public static DicomPixelData Create(DicomDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var element = dataset.GetElement(DicomTag.PixelData) ?? throw new DicomDataException("The data set has no Pixel Data (7FE0,0010).");
        return new DicomPixelData(dataset, element.Buffer);
    }

    /// <summary>The stored values of one frame (masked and sign-extended), row by row.</summary>
    public int[] GetStoredValues(int frame)
    {
        var span = FrameSpan(frame);
        var values = new int[Rows * Columns];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Interpret(BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(2 * i, 2)));
        }

        return values;
    }

    /// <summary>
    /// The rescaled values (HU for CT) of one frame, row by row; padding pixels become <paramref name="paddingReplacement"/>
    /// (NaN by default) when <paramref name="excludePadding"/> is true.
    /// </summary>
    public float[] GetRescaledValues(int frame, bool excludePadding = true, float paddingReplacement = float.NaN)
    {
        var values = new float[Rows * Columns];
        CopyRescaledValues(frame, values, excludePadding, paddingReplacement);
        return values;
    }

    /// <summary>
    /// Writes the rescaled values of one frame (exactly as <see cref="GetRescaledValues"/>: the stored value masked and
    /// sign-extended, times the slope plus the intercept, rounded once to float) into <paramref name="destination"/>
    /// (at least Rows × Columns long) without allocating. Vectorised when the result is exact in single precision
    /// (integer slope and intercept, as CT uses); otherwise computed in double precision per pixel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void CopyRescaledValues(int frame, Span<float> destination, bool excludePadding = true, float paddingReplacement = float.NaN)
    {
        var span = FrameSpan(frame);
        var count = Rows * Columns;
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, count);
        destination = destination[..count];
        var padded = excludePadding && PaddingValue is not null;
        int padLo = 0, padHi = -1;
        if (padded)
        {
            padLo = Math.Min(PaddingValue!.Value, PaddingRangeLimit!.Value);
            padHi = Math.Max(PaddingValue.Value, PaddingRangeLimit.Value);
        }

        var i = 0;
        // |stored| < 2^16: with an integer slope of at most 2^7 and an integer intercept of at most 2^23 every
        // intermediate is an integer below 2^24, so single-precision arithmetic gives the double-precision result.
        var exactInFloat = RescaleSlope == Math.Round(RescaleSlope) && Math.Abs(RescaleSlope) <= 128
            && RescaleIntercept == Math.Round(RescaleIntercept) && Math.Abs(RescaleIntercept) <= 1 << 23;
        if (exactInFloat && BitConverter.IsLittleEndian && Vector.IsHardwareAccelerated && count >= Vector<ushort>.Count)
        {
            var raw = MemoryMarshal.Cast<byte, ushort>(span);
            var shift = 32 - BitsStored;
            var mask = new Vector<int>((1 << BitsStored) - 1);
            var signed = PixelRepresentation == 1;
            var slope = new Vector<float>((float)RescaleSlope);
            var intercept = new Vector<float>((float)RescaleIntercept);
            var lo = new Vector<int>(padLo);
            var hi = new Vector<int>(padHi);
            var replacement = new Vector<float>(paddingReplacement);
            var width = Vector<int>.Count;
            var target = MemoryMarshal.Cast<float, Vector<float>>(destination);
            for (; i <= count - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                Vector.Widen(new Vector<ushort>(raw.Slice(i, Vector<ushort>.Count)), out var a, out var b);
                var v = i / width;
                target[v] = Rescale(Vector.AsVectorInt32(a), signed, shift, mask, slope, intercept, padded, lo, hi, replacement);
                target[v + 1] = Rescale(Vector.AsVectorInt32(b), signed, shift, mask, slope, intercept, padded, lo, hi, replacement);
            }
        }

        for (; i < count; i++)
        {
            var stored = Interpret(BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(2 * i, 2)));
            destination[i] = padded && stored >= padLo && stored <= padHi
                ? paddingReplacement
                : (float)((stored * RescaleSlope) + RescaleIntercept);
        }
    }

    /// <summary>Stored values (masked or sign-extended to Bits Stored) to rescaled floats, padding replaced.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Rescale(Vector<int> stored, bool signed, int shift, Vector<int> mask, Vector<float> slope, Vector<float> intercept, bool padded, Vector<int> lo, Vector<int> hi, Vector<float> replacement)
    {
        stored = signed ? Vector.ShiftRightArithmetic(Vector.ShiftLeft(stored, shift), shift) : stored & mask;
        var value = (Vector.ConvertToSingle(stored) * slope) + intercept;
        if (padded)
        {
            var isPad = Vector.GreaterThanOrEqual(stored, lo) & Vector.LessThanOrEqual(stored, hi);
            value = Vector.ConditionalSelect(Vector.AsVectorSingle(isPad), replacement, value);
        }

        return value;
    }

    /// <summary>
    /// Label fast path: when the rescaled values are the stored values (slope 1, intercept 0, no padding), copies them
    /// as bytes and returns true if every one lies in 0–255; otherwise returns false (the destination is then partly
    /// written) and the caller takes the general path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TryCopyByteValues(int frame, Span<byte> destination)
    {
        var count = Rows * Columns;
        if (RescaleSlope != 1 || RescaleIntercept != 0 || PaddingValue is not null || !BitConverter.IsLittleEndian
            || (PixelRepresentation == 1 && BitsStored <= 8) || destination.Length < count)
        {
            return false;
        }

        // Masked to Bits Stored; with more than 8 bits a set sign bit makes the masked value ≥ 256, i.e. rejected.
        var raw = MemoryMarshal.Cast<byte, ushort>(FrameSpan(frame));
        var mask = (ushort)((1 << BitsStored) - 1);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<ushort>.Count;
            var maskV = new Vector<ushort>(mask);
            var max = new Vector<ushort>(255);
            for (; i <= count - (2 * width); i += 2 * width)
            {
                var a = new Vector<ushort>(raw.Slice(i, width)) & maskV;
                var b = new Vector<ushort>(raw.Slice(i + width, width)) & maskV;
                if (Vector.GreaterThanAny(a, max) || Vector.GreaterThanAny(b, max))
                {
                    return false;
                }

                Vector.Narrow(a, b).CopyTo(destination.Slice(i, 2 * width));
            }
        }

        for (; i < count; i++)
        {
            var value = raw[i] & mask;
            if (value > 255)
            {
                return false;
            }

            destination[i] = (byte)value;
        }

        return true;
    }

    /// <summary>True when a stored value is padding.</summary>
    public bool IsPadding(int stored)
    {
        if (PaddingValue is not { } a || PaddingRangeLimit is not { } b)
        {
            return false;
        }

        return stored >= Math.Min(a, b) && stored <= Math.Max(a, b);
    }

    private ReadOnlySpan<byte> FrameSpan(int frame)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frame);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(frame, NumberOfFrames);
        var frameBytes = Rows * Columns * 2;
        return _data.Span.Slice(frame * frameBytes, frameBytes);
    }

    private int Interpret(ushort raw)
    {
        var mask = (1 << BitsStored) - 1;
        var value = raw & mask;
        if (PixelRepresentation == 1 && (value & (1 << (BitsStored - 1))) != 0)
        {
            value -= 1 << BitsStored;
        }

        return value;
    }
}
