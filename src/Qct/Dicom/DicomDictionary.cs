namespace HomaBone.Qct.Dicom;

/// <summary>
/// The VRs of the attributes this reader must interpret in implicit VR files (PS3.6). Unknown tags read as UN;
/// undefined-length UN is parsed as a sequence, as PS3.5 §6.2.2 requires.
/// </summary>
internal static class DicomDictionary
{
    private static readonly Dictionary<uint, DicomVR> Entries = Build();

    public static DicomVR Lookup(DicomTag tag)
    {
        if (tag.Element == 0x0000)
        {
            return DicomVR.UL;
        }

        return Entries.TryGetValue(tag.Value, out var vr) ? vr : DicomVR.UN;
    }

    private static Dictionary<uint, DicomVR> Build()
    {
        var d = new Dictionary<uint, DicomVR>();
        void Add(uint tag, DicomVR vr) => d[tag] = vr;

        Add(0x00020001, DicomVR.OB);
        Add(0x00020002, DicomVR.UI);
        Add(0x00020003, DicomVR.UI);
        Add(0x00020010, DicomVR.UI);
        Add(0x00020012, DicomVR.UI);
        Add(0x00020013, DicomVR.SH);
        Add(0x00020016, DicomVR.AE);
        Add(0x00080005, DicomVR.CS);
        Add(0x00080008, DicomVR.CS);
        Add(0x00080012, DicomVR.DA);
        Add(0x00080013, DicomVR.TM);
        Add(0x00080016, DicomVR.UI);
        Add(0x00080018, DicomVR.UI);
        Add(0x00080020, DicomVR.DA);
        Add(0x00080021, DicomVR.DA);
        Add(0x00080022, DicomVR.DA);
        Add(0x00080023, DicomVR.DA);
        Add(0x00080030, DicomVR.TM);
        Add(0x00080031, DicomVR.TM);
        Add(0x00080032, DicomVR.TM);
        Add(0x00080033, DicomVR.TM);
        Add(0x00080050, DicomVR.SH);
        Add(0x00080060, DicomVR.CS);
        Add(0x00080064, DicomVR.CS);
        Add(0x00080070, DicomVR.LO);
        Add(0x00080080, DicomVR.LO);
        Add(0x00080090, DicomVR.PN);
        Add(0x00080100, DicomVR.SH);
        Add(0x00080102, DicomVR.SH);
        Add(0x00080104, DicomVR.LO);
        Add(0x00081010, DicomVR.SH);
        Add(0x00081030, DicomVR.LO);
        Add(0x00081032, DicomVR.SQ);
        Add(0x0008103E, DicomVR.LO);
        Add(0x00081090, DicomVR.LO);
        Add(0x00081140, DicomVR.SQ);
        Add(0x00081150, DicomVR.UI);
        Add(0x00081155, DicomVR.UI);
        Add(0x00082111, DicomVR.ST);
        Add(0x00082112, DicomVR.SQ);
        Add(0x00100010, DicomVR.PN);
        Add(0x00100020, DicomVR.LO);
        Add(0x00100021, DicomVR.LO);
        Add(0x00100030, DicomVR.DA);
        Add(0x00100040, DicomVR.CS);
        Add(0x00101002, DicomVR.SQ);
        Add(0x00101010, DicomVR.AS);
        Add(0x00101020, DicomVR.DS);
        Add(0x00101030, DicomVR.DS);
        Add(0x00180015, DicomVR.CS);
        Add(0x00180050, DicomVR.DS);
        Add(0x00180060, DicomVR.DS);
        Add(0x00180088, DicomVR.DS);
        Add(0x00180090, DicomVR.DS);
        Add(0x00181020, DicomVR.LO);
        Add(0x00181030, DicomVR.LO);
        Add(0x00181100, DicomVR.DS);
        Add(0x00181120, DicomVR.DS);
        Add(0x00181130, DicomVR.DS);
        Add(0x00181150, DicomVR.IS);
        Add(0x00181151, DicomVR.IS);
        Add(0x00181152, DicomVR.IS);
        Add(0x00181160, DicomVR.SH);
        Add(0x00181210, DicomVR.SH);
        Add(0x00185100, DicomVR.CS);
        Add(0x0020000D, DicomVR.UI);
        Add(0x0020000E, DicomVR.UI);
        Add(0x00200010, DicomVR.SH);
        Add(0x00200011, DicomVR.IS);
        Add(0x00200012, DicomVR.IS);
        Add(0x00200013, DicomVR.IS);
        Add(0x00200032, DicomVR.DS);
        Add(0x00200037, DicomVR.DS);
        Add(0x00200052, DicomVR.UI);
        Add(0x00201040, DicomVR.LO);
        Add(0x00201041, DicomVR.DS);
        Add(0x00204000, DicomVR.LT);
        Add(0x00280002, DicomVR.US);
        Add(0x00280004, DicomVR.CS);
        Add(0x00280008, DicomVR.IS);
        Add(0x00280010, DicomVR.US);
        Add(0x00280011, DicomVR.US);
        Add(0x00280030, DicomVR.DS);
        Add(0x00280100, DicomVR.US);
        Add(0x00280101, DicomVR.US);
        Add(0x00280102, DicomVR.US);
        Add(0x00280103, DicomVR.US);
        Add(0x00280106, DicomVR.US);
        Add(0x00280107, DicomVR.US);
        Add(0x00280120, DicomVR.US);
        Add(0x00280121, DicomVR.US);
        Add(0x00281050, DicomVR.DS);
        Add(0x00281051, DicomVR.DS);
        Add(0x00281052, DicomVR.DS);
        Add(0x00281053, DicomVR.DS);
        Add(0x00281054, DicomVR.LO);
        Add(0x00282110, DicomVR.CS);
        Add(0x00282112, DicomVR.DS);
        Add(0x00400260, DicomVR.SQ);
        Add(0x00400275, DicomVR.SQ);
        Add(0x00400009, DicomVR.SH);
        Add(0x00401001, DicomVR.SH);
        Add(0x00081163, DicomVR.FD);
        Add(0x00181320, DicomVR.FL);
        Add(0x00186020, DicomVR.SL);
        Add(0x00189219, DicomVR.SS);
        Add(0x00081161, DicomVR.UL);
        Add(0x00209165, DicomVR.AT);
        Add(0x00181638, DicomVR.OF);
        Add(0x00181009, DicomVR.UT);
        Add(0x00080119, DicomVR.UC);
        Add(0x0040A170, DicomVR.SQ);
        Add(0x00180022, DicomVR.CS);
        Add(0x00189305, DicomVR.FD);
        Add(0x00189306, DicomVR.FD);
        Add(0x00189307, DicomVR.FD);
        Add(0x00189311, DicomVR.FD);
        Add(0x7FE00010, DicomVR.OW);
        return d;
    }
}
