using HomaBone.Qct.Dicom;

namespace HomaBone.Qct.Tests.Dicom;

/// <summary>Accessor semantics (fo-dicom-shaped) on a small hand-built data set.</summary>
public sealed class DicomDatasetTests
{
    private static DicomDataset Sample()
    {
        var w = new ByteWriter();
        w.Text(0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\AXIAL");
        w.Text(0x0008, 0x0018, "UI", "1.2.3");
        w.Text(0x0010, 0x0010, "PN", "Doe^Jane");
        w.Text(0x0010, 0x1030, "DS", " 61.5 ");
        w.Text(0x0020, 0x0013, "IS", "7");
        w.Text(0x0020, 0x0032, "DS", "-10\\-20.5\\1e1");
        w.Text(0x0020, 0x4000, "LT", "  keep\\this");
        w.Header(0x0028, 0x0010, "US", 0);
        w.U16Value(0x0028, 0x0011, 512);
        return DicomFile.Open(w.ToArray()).Dataset;
    }

    [Fact]
    public void GetSingleValue_ParsesStringsAndNumbersInvariantly()
    {
        var ds = Sample();
        Assert.Equal("1.2.3", ds.GetSingleValue<string>(DicomTag.SOPInstanceUID));
        Assert.Equal(61.5, ds.GetSingleValue<double>(DicomTag.PatientWeight));
        Assert.Equal(61.5m, ds.GetSingleValue<decimal>(DicomTag.PatientWeight));
        Assert.Equal(7, ds.GetSingleValue<int>(DicomTag.InstanceNumber));
        Assert.Equal(512, ds.GetSingleValue<int>(DicomTag.Columns));
        Assert.Equal("512", ds.GetSingleValue<string>(DicomTag.Columns));
        Assert.Equal([-10, -20.5, 10], ds.GetValues<double>(DicomTag.ImagePositionPatient));
        Assert.Equal(["ORIGINAL", "PRIMARY", "AXIAL"], ds.GetValues<string>(DicomTag.ImageType));
        Assert.Equal("  keep\\this", ds.GetSingleValue<string>(DicomTag.ImageComments));
        Assert.Equal("ORIGINAL\\PRIMARY\\AXIAL", ds.GetString(DicomTag.ImageType));
    }

    [Fact]
    public void GetSingleValue_MissingEmptyMultiOrInvalid_ThrowsDataException_TryReturnsFalse()
    {
        var ds = Sample();
        Assert.Throws<DicomDataException>(() => ds.GetSingleValue<string>(DicomTag.PatientID));
        Assert.Throws<DicomDataException>(() => ds.GetSingleValue<int>(DicomTag.Rows));
        Assert.Throws<DicomDataException>(() => ds.GetSingleValue<double>(DicomTag.ImagePositionPatient));
        Assert.Throws<DicomDataException>(() => ds.GetSingleValue<int>(DicomTag.PatientWeight));
        Assert.Throws<DicomDataException>(() => ds.GetSingleValue<double>(DicomTag.PatientName));
        Assert.False(ds.TryGetSingleValue<string>(DicomTag.PatientID, out _));
        Assert.False(ds.TryGetSingleValue<int>(DicomTag.Rows, out _));
        Assert.False(ds.TryGetSingleValue<double>(DicomTag.ImagePositionPatient, out _));
        Assert.Equal(-1, ds.GetSingleValueOrDefault(DicomTag.Rows, -1));
        Assert.Equal("none", ds.GetSingleValueOrDefault(DicomTag.PatientID, "none"));
        Assert.Empty(ds.GetValues<int>(DicomTag.Rows));
        Assert.True(ds.Contains(DicomTag.Rows));
        Assert.False(ds.Contains(DicomTag.PatientID));
    }

    [Fact]
    public void GetSingleValue_Utf8CharacterSet_InheritedBySequenceItems()
    {
        var name = System.Text.Encoding.UTF8.GetBytes("Zoë^Ana");
        var w = new ByteWriter();
        w.Text(0x0008, 0x0005, "CS", "ISO_IR 192");
        w.ExplicitUndefinedSequence(0x0008, 0x1140);
        w.UndefinedItem();
        w.Header(0x0010, 0x0010, "PN", (uint)name.Length);
        w.Raw(name);
        w.ItemDelimiter();
        w.SequenceDelimiter();
        w.Header(0x0010, 0x0010, "PN", (uint)name.Length);
        w.Raw(name);
        var ds = DicomFile.Open(w.ToArray()).Dataset;
        Assert.Equal("Zoë^Ana", ds.GetSingleValue<string>(DicomTag.PatientName));
        Assert.Equal("Zoë^Ana", ds.GetSequence(DicomTag.ReferencedImageSequence).Items[0].GetSingleValue<string>(DicomTag.PatientName));
    }

    [Fact]
    public void Open_DuplicateTag_ThrowsFormatException()
    {
        var w = new ByteWriter();
        w.Text(0x0010, 0x0020, "LO", "A1");
        w.Text(0x0010, 0x0020, "LO", "B2");
        Assert.Throws<DicomFormatException>(() => DicomFile.Open(w.ToArray()));
    }

    [Fact]
    public void PixelData_SignedTwelveBitsWithGarbageHighBits_MaskedAndSignExtended()
    {
        // Oracle: two's complement arithmetic by hand. 0xF800 & 0x0FFF = 0x800 → −2048; 0x17FF → 0x7FF = 2047;
        // 0xAFFF → 0xFFF = −1; 0x0001 → 1.
        var w = new ByteWriter();
        w.U16Value(0x0028, 0x0002, 1);
        w.Text(0x0028, 0x0004, "CS", "MONOCHROME2");
        w.U16Value(0x0028, 0x0010, 1);
        w.U16Value(0x0028, 0x0011, 4);
        w.U16Value(0x0028, 0x0100, 16);
        w.U16Value(0x0028, 0x0101, 12);
        w.U16Value(0x0028, 0x0102, 11);
        w.U16Value(0x0028, 0x0103, 1);
        w.U16Value(0x0028, 0x0120, 0xF800);
        w.Text(0x0028, 0x1052, "DS", "-1024");
        w.Text(0x0028, 0x1053, "DS", "2");
        w.Header(0x7FE0, 0x0010, "OW", 8);
        foreach (var v in new ushort[] { 0xF800, 0x17FF, 0xAFFF, 0x0001 })
        {
            w.U16(v);
        }

        var pixels = DicomPixelData.Create(DicomFile.Open(w.ToArray()).Dataset);
        Assert.Equal([-2048, 2047, -1, 1], pixels.GetStoredValues(0));
        Assert.Equal(-2048, pixels.PaddingValue);
        var hu = pixels.GetRescaledValues(0);
        Assert.True(float.IsNaN(hu[0]));
        Assert.Equal([2047 * 2 - 1024f, -2 - 1024f, 2 - 1024f], hu[1..]);
    }
}
