using HomaBone.Analysis;
using HomaBone.Contracts.V1;
using HomaBone.Storage;
using D = HomaBone.Domain;

namespace HomaBone.Grains;

/// <summary>Builds a participant's analysis row (catalogue values in canonical units) from its stored revision.</summary>
public static class AnalysisRows
{
    /// <summary>The row of a stored revision.</summary>
    public static ShardRow FromStored(StoredRevision stored, CohortSettings settings)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return FromParticipant(Participant.Parser.ParseFrom(stored.Payload), stored.ParticipantId, stored.Seq, settings);
    }

    /// <summary>The row of a participant message at change <paramref name="seq"/>.</summary>
    public static ShardRow FromParticipant(Participant participant, string participantId, long seq, CohortSettings settings)
    {
        ArgumentNullException.ThrowIfNull(participant);
        ArgumentNullException.ThrowIfNull(settings);
        var record = participant.Record ?? new ParticipantRecord();
        var domain = ParticipantMapping.ToDomain(record, [], string.Empty);
        var units = new D.UnitConversionOptions { InsulinPmolPerMicroIu = settings.InsulinPmolPerUiu > 0 ? settings.InsulinPmolPerUiu : 6.0 };
        var derived = participant.Derived ?? new DerivedValues();
        var v = new double[Variables.Count];
        Array.Fill(v, double.NaN);
        v[Variables.HomaIr.Index] = Value(derived.HomaIr);
        v[Variables.LogHomaIr.Index] = Value(derived.LogHomaIr);
        v[Variables.Quicki.Index] = Value(derived.Quicki);
        v[Variables.TygIndex.Index] = Value(derived.TygIndex);
        v[Variables.Age.Index] = domain.Demographics.AgeYears ?? double.NaN;
        v[Variables.Height.Index] = domain.Anthropometry.HeightCm ?? double.NaN;
        v[Variables.Weight.Index] = domain.Anthropometry.WeightKg ?? double.NaN;
        v[Variables.Bmi.Index] = Value(derived.Bmi);
        v[Variables.Waist.Index] = domain.Anthropometry.WaistCm ?? double.NaN;
        v[Variables.Thigh.Index] = domain.Anthropometry.ThighCm ?? double.NaN;
        v[Variables.Glucose.Index] = domain.Labs.CanonicalValue(D.Analyte.Glucose, units) ?? double.NaN;
        v[Variables.Insulin.Index] = domain.Labs.CanonicalValue(D.Analyte.Insulin, units) ?? double.NaN;
        v[Variables.Triglycerides.Index] = domain.Labs.CanonicalValue(D.Analyte.Triglycerides, units) ?? double.NaN;
        v[Variables.Hdl.Index] = domain.Labs.CanonicalValue(D.Analyte.HdlCholesterol, units) ?? double.NaN;
        v[Variables.VitaminD.Index] = domain.Labs.CanonicalValue(D.Analyte.VitaminD, units) ?? double.NaN;
        v[Variables.Egfr.Index] = Value(derived.EgfrCkdEpi2009);
        v[Variables.HsCrp.Index] = domain.Labs.CanonicalValue(D.Analyte.HsCrp, units) ?? double.NaN;
        v[Variables.Alcohol.Index] = domain.Demographics.AlcoholUnitsPerDay is { } alcohol ? (alcohol >= 1 ? 1 : 0) : double.NaN;
        v[Variables.Smoking.Index] = domain.Demographics.CurrentSmoking is { } smoking ? (smoking ? 1 : 0) : double.NaN;
        v[Variables.PhysicalActivity.Index] = derived.PhysicalActivityCategory == PhysicalActivityCategory.Unspecified ? double.NaN : (int)derived.PhysicalActivityCategory;
        v[Variables.MetMinutes.Index] = Value(derived.MetMinutesPerWeek);
        var geometry = domain.Qct.NeckGeometry;
        v[Variables.CorticalDepth.Index] = geometry.CorticalDepthMm ?? double.NaN;
        v[Variables.NeckWidth.Index] = geometry.NeckWidthCm ?? double.NaN;
        v[Variables.HipAxisLength.Index] = geometry.HipAxisLengthMm ?? double.NaN;
        v[Variables.NeckAngle.Index] = geometry.NeckAngleDeg ?? double.NaN;
        v[Variables.Csi.Index] = Value(derived.CompressiveStrengthIndex);
        v[Variables.SectionModulus.Index] = Value(derived.SectionModulus);
        v[Variables.BucklingRatio.Index] = Value(derived.BucklingRatio);
        v[Variables.SpineVbmd.Index] = domain.Qct.L1L2VbmdMgPerCm3 ?? double.NaN;
        var regions = new[] { domain.Qct.FemoralNeck, domain.Qct.Trochanter, domain.Qct.Intertrochanter, domain.Qct.TotalProximalFemur };
        for (var r = 0; r < regions.Length; r++)
        {
            var region = regions[r];
            double?[] measures = [region.TotalVolumeCm3, region.CorticalVolumeCm3, region.TrabecularVolumeCm3, region.TotalVbmdMgPerCm3, region.CorticalVbmdMgPerCm3, region.TrabecularVbmdMgPerCm3];
            for (var m = 0; m < measures.Length; m++)
            {
                v[Variables.RegionIndex(r, m)] = measures[m] ?? double.NaN;
            }
        }

        var eligibility = participant.Eligibility ?? new Eligibility();
        return new ShardRow(
            participantId,
            participant.Revision,
            seq,
            participant.State != ParticipantState.Withdrawn,
            eligibility.Eligible,
            (int)eligibility.FirstReason,
            eligibility.Reasons.Count == 0 ? [] : [.. eligibility.Reasons.Select(r => (int)r)],
            PackedValues.Pack(v),
            participant.UpdateTime is { } updated ? updated.ToDateTimeOffset().UtcTicks : 0);
    }

    /// <summary>The analysis library's row.</summary>
    public static AnalysisRow ToAnalysis(ShardRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new AnalysisRow(row.ParticipantId, row.Revision, row.Seq, row.Active, row.Eligible, row.FirstReason, row.Reasons, PackedValues.Unpack(row.PackedValues));
    }

    private static double Value(DerivedValue? value) => value is { ResultCase: DerivedValue.ResultOneofCase.Value } v ? v.Value : double.NaN;
}
