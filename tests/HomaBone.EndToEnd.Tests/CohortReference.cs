using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using HomaBone.Contracts.V1;

namespace HomaBone.EndToEnd.Tests;

/// <summary>One number of the R reference: its value, tolerance class and natural magnitude.</summary>
public sealed record ReferenceValue(double Value, string Kind, double Scale);

/// <summary>The answers of every analysis RPC at one version.</summary>
public sealed record CohortAnswers(
    GetFlowResponse Flow,
    GetQuartilesResponse Quartiles,
    GetCharacteristicsResponse Characteristics,
    GetGroupDifferencesResponse Half,
    GetGroupDifferencesResponse Each,
    GetAssociationsResponse Associations)
{
    /// <summary>The cohort version every answer carries (asserted equal).</summary>
    public long Version
    {
        get
        {
            var versions = new[] { Flow.Metadata, Quartiles.Metadata, Characteristics.Metadata, Half.Metadata, Each.Metadata, Associations.Metadata }.Select(m => m.CohortVersion).Distinct().ToList();
            Assert.Single(versions);
            return versions[0];
        }
    }

    /// <summary>The wire bytes of each answer.</summary>
    public IReadOnlyList<byte[]> Bytes() =>
        [Flow.ToByteArray(), Quartiles.ToByteArray(), Characteristics.ToByteArray(), Half.ToByteArray(), Each.ToByteArray(), Associations.ToByteArray()];
}

/// <summary>One comparison that failed its tolerance.</summary>
public sealed record Mismatch(string Key, double Service, double Reference, string Why);

/// <summary>
/// The reference side of issue 5's "Show" tests: exports stored participants to CSV (catalogue variables in
/// canonical units, written here from the proto and the unit factors of study.md, not from the service's
/// analysis code), runs Scripts/cohort_reference.R, flattens the analysis RPC answers into the same keys and
/// compares them: counts and cut points exactly, estimates ≤ 1e-10 relative, P ≤ 1e-8 relative.
/// </summary>
public static class CohortReference
{
    /// <summary>Estimates: relative tolerance (absolute, × the quantity's natural scale, where the value is ~0).</summary>
    public const double EstimateTolerance = 1e-10;

    /// <summary>P-values: relative tolerance.</summary>
    public const double PTolerance = 1e-8;

    private static readonly string[] Regions = ["femoral_neck", "trochanter", "intertrochanter", "total_hip"];

    /// <summary>The CSV columns after the eligibility columns, in canonical study units.</summary>
    public static readonly IReadOnlyList<string> Columns = BuildColumns();

    /// <summary>
    /// The user model of the reference test: ln CSI on ln HOMA-IR (a log transform of homa_ir), age, BMI, physical
    /// activity as categorical dummies and ln hs-CRP (the same model is written out in cohort_reference.R).
    /// </summary>
    public static ModelSpec CustomModel => new()
    {
        Label = "custom",
        Outcome = new ModelTerm { Variable = "compressive_strength_index", Transform = Transform.Log },
        Exposure = new ModelTerm { Variable = "homa_ir", Transform = Transform.Log },
        Covariates =
        {
            new ModelTerm { Variable = "age" },
            new ModelTerm { Variable = "bmi" },
            new ModelTerm { Variable = "physical_activity_category", Categorical = true },
            new ModelTerm { Variable = "hs_crp", Transform = Transform.Log },
        },
    };

    /// <summary>Asks every analysis RPC at <paramref name="version"/> (0 = latest).</summary>
    public static async Task<CohortAnswers> AskAllAsync(CohortService.CohortServiceClient client, string name, long version)
    {
        ArgumentNullException.ThrowIfNull(client);
        var flow = await client.GetFlowAsync(new GetFlowRequest { Name = name, Version = version });
        var quartiles = await client.GetQuartilesAsync(new GetQuartilesRequest { Name = name, Version = version });
        var characteristics = await client.GetCharacteristicsAsync(new GetCharacteristicsRequest { Name = name, Version = version });
        var half = await client.GetGroupDifferencesAsync(new GetGroupDifferencesRequest { Name = name, Version = version, Comparison = GroupComparison.TopHalfVsBottomHalf });
        var each = await client.GetGroupDifferencesAsync(new GetGroupDifferencesRequest { Name = name, Version = version, Comparison = GroupComparison.EachVsLowest });
        var associations = await client.GetAssociationsAsync(new GetAssociationsRequest { Name = name, Version = version, CustomModels = { CustomModel } });
        return new CohortAnswers(flow, quartiles, characteristics, half, each, associations);
    }

    /// <summary>Every participant of a cohort (withdrawn included), in page order.</summary>
    public static async Task<List<Participant>> ListAllAsync(ParticipantService.ParticipantServiceClient client, string parent)
    {
        var all = new List<Participant>();
        var token = string.Empty;
        do
        {
            var page = await client.ListParticipantsAsync(new ListParticipantsRequest { Parent = parent, PageSize = 1000, PageToken = token, ShowWithdrawn = true });
            all.AddRange(page.Participants);
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return all;
    }

    /// <summary>Writes the records as the R script's input.</summary>
    public static void WriteCsv(IEnumerable<Participant> participants, string path, double insulinPmolPerUiu = 6.0)
    {
        var sb = new StringBuilder();
        sb.Append("id,active,eligible,first_reason,reasons,").AppendJoin(',', Columns).Append('\n');
        foreach (var p in participants)
        {
            var values = Values(p, insulinPmolPerUiu);
            sb.Append(p.Name[(p.Name.LastIndexOf('/') + 1)..]).Append(',')
                .Append(p.State == ParticipantState.Withdrawn ? '0' : '1').Append(',')
                .Append(p.Eligibility.Eligible ? '1' : '0').Append(',')
                .Append((int)p.Eligibility.FirstReason).Append(',')
                .AppendJoin(';', p.Eligibility.Reasons.Select(r => (int)r)).Append(',')
                .AppendJoin(',', Columns.Select(c => Format(values[c]))).Append('\n');
        }

        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>The catalogue values of one stored participant, NaN = missing.</summary>
    public static Dictionary<string, double> Values(Participant participant, double insulinPmolPerUiu = 6.0)
    {
        ArgumentNullException.ThrowIfNull(participant);
        var r = participant.Record;
        var d = participant.Derived;
        var demo = r.Demographics;
        var anthro = r.Anthropometry;
        var labs = r.Labs;
        var qct = r.Qct;
        var v = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["homa_ir"] = Derived(d.HomaIr),
            ["log_homa_ir"] = Derived(d.LogHomaIr),
            ["age"] = demo.HasAgeYears ? demo.AgeYears : double.NaN,
            ["height"] = anthro.HasHeightCm ? anthro.HeightCm : double.NaN,
            ["weight"] = anthro.HasWeightKg ? anthro.WeightKg : double.NaN,
            ["bmi"] = Derived(d.Bmi),
            ["waist"] = anthro.HasWaistCm ? anthro.WaistCm : double.NaN,
            ["thigh"] = anthro.HasThighCm ? anthro.ThighCm : double.NaN,
            ["glucose"] = Lab(labs.Glucose, "mg/dL", ("mmol/L", x => x * 18.0)),
            ["insulin"] = Lab(labs.Insulin, "uIU/mL", ("pmol/L", x => x / insulinPmolPerUiu)),
            ["triglycerides"] = Lab(labs.Triglycerides, "mg/dL", ("mmol/L", x => x * 88.57)),
            ["hdl_cholesterol"] = Lab(labs.HdlCholesterol, "mg/dL", ("mmol/L", x => x * 38.67)),
            ["vitamin_d"] = Lab(labs.VitaminD, "ng/mL", ("nmol/L", x => x / 2.496)),
            ["egfr"] = Derived(d.EgfrCkdEpi2009),
            ["creatinine"] = Lab(labs.Creatinine, "mg/dL", ("umol/L", x => x / 88.4)),
            ["black_race"] = demo.HasBlackRace ? (demo.BlackRace ? 1 : 0) : double.NaN,
            ["hs_crp"] = Lab(labs.HsCrp, "mg/L", ("mg/dL", x => x * 10.0)),
            ["alcohol_1_unit_per_day"] = demo.HasAlcoholUnitsPerDay ? (demo.AlcoholUnitsPerDay >= 1 ? 1 : 0) : double.NaN,
            ["current_smoking"] = demo.HasCurrentSmoking ? (demo.CurrentSmoking ? 1 : 0) : double.NaN,
            ["physical_activity_category"] = d.PhysicalActivityCategory == PhysicalActivityCategory.Unspecified ? double.NaN : (int)d.PhysicalActivityCategory,
            ["neck_cortical_depth"] = qct.HasNeckCorticalDepthMm ? qct.NeckCorticalDepthMm : double.NaN,
            ["neck_width"] = qct.HasNeckWidthCm ? qct.NeckWidthCm : double.NaN,
            ["hip_axis_length"] = qct.HasHipAxisLengthMm ? qct.HipAxisLengthMm : double.NaN,
            ["neck_shaft_angle"] = qct.HasNeckShaftAngleDeg ? qct.NeckShaftAngleDeg : double.NaN,
            ["compressive_strength_index"] = Derived(d.CompressiveStrengthIndex),
            ["section_modulus"] = Derived(d.SectionModulus),
            ["buckling_ratio"] = Derived(d.BucklingRatio),
        };
        var regions = new[] { qct.FemoralNeck, qct.Trochanter, qct.Intertrochanter, qct.TotalHip };
        for (var i = 0; i < Regions.Length; i++)
        {
            var m = regions[i] ?? new RegionMeasures();
            v[Regions[i] + ".total_volume"] = m.HasTotalVolumeCm3 ? m.TotalVolumeCm3 : double.NaN;
            v[Regions[i] + ".cortical_volume"] = m.HasCorticalVolumeCm3 ? m.CorticalVolumeCm3 : double.NaN;
            v[Regions[i] + ".trabecular_volume"] = m.HasTrabecularVolumeCm3 ? m.TrabecularVolumeCm3 : double.NaN;
            v[Regions[i] + ".total_vbmd"] = m.HasTotalVbmdMgCm3 ? m.TotalVbmdMgCm3 : double.NaN;
            v[Regions[i] + ".cortical_vbmd"] = m.HasCorticalVbmdMgCm3 ? m.CorticalVbmdMgCm3 : double.NaN;
            v[Regions[i] + ".trabecular_vbmd"] = m.HasTrabecularVbmdMgCm3 ? m.TrabecularVbmdMgCm3 : double.NaN;
        }

        return v;
    }

    /// <summary>Runs the R reference over a CSV; fails (never skips) when Rscript is missing.</summary>
    public static Dictionary<string, ReferenceValue> RunR(string csvPath)
    {
        var rscript = Environment.GetEnvironmentVariable("HOMABONE_RSCRIPT") ?? "/usr/bin/Rscript";
        Assert.True(File.Exists(rscript), $"Rscript not found at {rscript}: the cohort reference test requires R (r-base-core).");
        var script = Path.Combine(ServiceProcess.RepositoryRoot, "tests", "HomaBone.EndToEnd.Tests", "Scripts", "cohort_reference.R");
        var outPath = Path.ChangeExtension(csvPath, ".reference.csv");
        var psi = new ProcessStartInfo(rscript) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "--vanilla", script, csvPath, outPath })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start Rscript");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException("Rscript did not finish within 2 minutes");
        }

        Assert.True(process.ExitCode == 0, $"Rscript failed ({process.ExitCode}): {stderr.Result}{stdout.Result}");
        var values = new Dictionary<string, ReferenceValue>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(outPath).Skip(1))
        {
            var f = line.Split(',').Select(s => s.Trim('"')).ToArray();
            values.Add(f[0], new ReferenceValue(Parse(f[1]), f[2], Parse(f[3])));
        }

        return values;
    }

    /// <summary>The service's answers flattened to the R script's keys; suppressed cells are listed separately.</summary>
    public static (Dictionary<string, double> Values, List<(string Key, SuppressionReason Reason)> Suppressed) Flatten(
        GetFlowResponse flow, GetQuartilesResponse quartiles, GetCharacteristicsResponse characteristics,
        GetGroupDifferencesResponse half, GetGroupDifferencesResponse each, GetAssociationsResponse associations)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(quartiles);
        ArgumentNullException.ThrowIfNull(characteristics);
        ArgumentNullException.ThrowIfNull(half);
        ArgumentNullException.ThrowIfNull(each);
        ArgumentNullException.ThrowIfNull(associations);
        var v = new Dictionary<string, double>(StringComparer.Ordinal);
        var suppressed = new List<(string, SuppressionReason)>();

        v["flow.enrolled"] = flow.Enrolled;
        v["flow.analysed"] = flow.Analysed;
        v["flow.withdrawn"] = flow.Withdrawn;
        foreach (var step in flow.Steps)
        {
            var reason = (int)Enum.Parse<ExclusionReason>(step.Reason);
            if (step.Suppression != SuppressionReason.Unspecified)
            {
                suppressed.Add(($"flow.first.{reason}", step.Suppression));
                suppressed.Add(($"flow.any.{reason}", step.Suppression));
                Assert.Equal(0L, step.FirstReasonCount);
                Assert.Equal(0L, step.AnyReasonCount);
                continue;
            }

            v[$"flow.first.{reason}"] = step.FirstReasonCount;
            v[$"flow.any.{reason}"] = step.AnyReasonCount;
        }

        v["quartiles.n_used"] = quartiles.Metadata.NUsed;
        for (var j = 0; j < quartiles.CutPoints.Count; j++)
        {
            v[$"quartiles.cut.{j + 1}"] = quartiles.CutPoints[j];
        }

        foreach (var g in quartiles.Groups)
        {
            Assert.Equal(SuppressionReason.Unspecified, g.Suppression);
            v[$"quartiles.n.{g.Index}"] = g.N;
            Assert.Equal(g.Index > 1, g.HasLowerExclusive);
            Assert.Equal(g.Index < quartiles.Groups.Count, g.HasUpperInclusive);
            if (g.HasLowerExclusive)
            {
                Assert.Equal(quartiles.CutPoints[g.Index - 2], g.LowerExclusive);
            }

            if (g.HasUpperInclusive)
            {
                Assert.Equal(quartiles.CutPoints[g.Index - 1], g.UpperInclusive);
            }
        }

        Assert.Equal(quartiles.Groups.Select(g => g.N), characteristics.Groups.Select(g => g.N));
        foreach (var row in characteristics.Rows)
        {
            for (var c = 0; c < row.Cells.Count; c++)
            {
                var cell = row.Cells[c];
                var prefix = $"t1.{row.Variable}.{(c < row.Cells.Count - 1 ? (c + 1).ToString(CultureInfo.InvariantCulture) : "all")}";
                v[prefix + ".missing"] = cell.Missing;
                if (cell.Suppression != SuppressionReason.Unspecified)
                {
                    suppressed.Add((prefix, cell.Suppression));
                    if (row.Kind == SummaryKind.CountPercent)
                    {
                        v[prefix + ".n"] = cell.N;
                    }

                    continue;
                }

                v[prefix + ".n"] = cell.N;
                switch (row.Kind)
                {
                    case SummaryKind.MeanSd:
                        v[prefix + ".mean"] = cell.Mean;
                        v[prefix + ".sd"] = cell.Sd;
                        break;
                    case SummaryKind.MedianIqr:
                        v[prefix + ".p25"] = cell.P25;
                        v[prefix + ".median"] = cell.Median;
                        v[prefix + ".p75"] = cell.P75;
                        break;
                    default:
                        v[prefix + ".count"] = cell.Count;
                        v[prefix + ".percent"] = cell.Percent;
                        break;
                }
            }

            Assert.True(row.Trend.NotComputableReason.Length == 0, $"{row.Variable}: {row.Trend.NotComputableReason}");
            var binary = row.Kind == SummaryKind.CountPercent && !row.Variable.StartsWith("physical_activity_category", StringComparison.Ordinal);
            Assert.Equal(binary ? "cochran-armitage" : "cuzick", row.Trend.Method);
            v[$"t1.{row.Variable}.trend.z"] = row.Trend.Statistic;
            v[$"t1.{row.Variable}.trend.p"] = row.Trend.PValue;
        }

        foreach (var (response, isHalf) in new[] { (half, true), (each, false) })
        {
            foreach (var d in response.Differences)
            {
                var prefix = isHalf ? $"gd.half.{d.Outcome}" : $"gd.each.{d.Comparison[1]}.{d.Outcome}";
                Assert.True(isHalf ? d.Comparison == "Q3-4 vs Q1-2" : d.Comparison is "Q2 vs Q1" or "Q3 vs Q1" or "Q4 vs Q1", d.Comparison);
                if (d.Suppression != SuppressionReason.Unspecified)
                {
                    suppressed.Add((prefix, d.Suppression));
                    continue;
                }

                v[prefix + ".difference"] = d.Difference;
                v[prefix + ".standard_error"] = d.StandardError;
                v[prefix + ".reference_sd"] = d.ReferenceSd;
                v[prefix + ".difference_sd"] = d.DifferenceSd;
                v[prefix + ".lower_ci_sd"] = d.LowerCiSd;
                v[prefix + ".upper_ci_sd"] = d.UpperCiSd;
                v[prefix + ".p_value"] = d.PValue;
                v[prefix + ".df"] = d.Df;
                v[prefix + ".n"] = d.N;
            }
        }

        foreach (var fit in associations.Fits)
        {
            var prefix = $"assoc.{fit.Model}.{fit.Outcome}";
            if (fit.Suppression != SuppressionReason.Unspecified)
            {
                suppressed.Add((prefix, fit.Suppression));
                continue;
            }

            v[prefix + ".n"] = fit.N;
            v[prefix + ".df"] = fit.Df;
            v[prefix + ".r_squared"] = fit.RSquared;
            v[prefix + ".adjusted_r_squared"] = fit.AdjustedRSquared;
            v[prefix + ".residual_sd"] = fit.ResidualSd;
            foreach (var c in fit.Coefficients)
            {
                var tp = $"{prefix}.coef.{c.Term}";
                v[tp + ".estimate"] = c.Estimate;
                v[tp + ".standard_error"] = c.StandardError;
                v[tp + ".t_value"] = c.TValue;
                v[tp + ".p_value"] = c.PValue;
                v[tp + ".lower_ci"] = c.LowerCi;
                v[tp + ".upper_ci"] = c.UpperCi;
                if (c.Term != "(Intercept)")
                {
                    v[tp + ".standardized_estimate"] = c.StandardizedEstimate;
                }
            }
        }

        return (v, suppressed);
    }

    /// <summary>
    /// Compares every reference number with the service's (a number the service withholds is skipped when its key
    /// is, or is under, a suppressed key: the caller checks each suppression's justification). Returns the
    /// mismatches and, per quantity (kind and the key's last segment), the maximum relative error, the count and the worst key.
    /// </summary>
    public static (List<Mismatch> Mismatches, SortedDictionary<string, (double MaxRelative, int Count, string Worst)> Errors) Compare(
        IReadOnlyDictionary<string, ReferenceValue> reference, IReadOnlyDictionary<string, double> service, IReadOnlyCollection<string> suppressed)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(suppressed);
        var mismatches = new List<Mismatch>();
        var errors = new SortedDictionary<string, (double MaxRelative, int Count, string Worst)>(StringComparer.Ordinal);
        foreach (var (key, r) in reference)
        {
            if (r.Kind == "check")
            {
                continue;
            }

            if (!service.TryGetValue(key, out var s))
            {
                if (suppressed.Any(p => key == p || key.StartsWith(p + ".", StringComparison.Ordinal)))
                {
                    continue;
                }

                mismatches.Add(new Mismatch(key, double.NaN, r.Value, "missing from the service's answers"));
                continue;
            }

            var diff = Math.Abs(s - r.Value);
            var relative = diff == 0 ? 0 : diff / Math.Max(Math.Abs(r.Value), double.Epsilon);
            var segments = key.Split('.');
            var quantity = r.Kind + ":" + (int.TryParse(segments[^1], CultureInfo.InvariantCulture, out _) ? segments[0] + "." + segments[^2] : segments[^1]);
            var ok = r.Kind switch
            {
                "exact" => s.Equals(r.Value),
                "p" => diff <= PTolerance * Math.Abs(r.Value) || (Math.Abs(r.Value) < 1e-300 && Math.Abs(s) < 1e-300),
                _ => diff <= EstimateTolerance * Math.Max(Math.Abs(r.Value), r.Scale),
            };
            if (!ok)
            {
                mismatches.Add(new Mismatch(key, s, r.Value, $"{r.Kind}: |diff| {diff:G3}, relative {relative:G3}"));
            }

            var (max, count, worst) = errors.GetValueOrDefault(quantity, (0.0, 0, string.Empty));
            errors[quantity] = relative > max || count == 0 ? (relative, count + 1, key) : (max, count + 1, worst);
        }

        foreach (var key in service.Keys.Where(k => !reference.ContainsKey(k)))
        {
            mismatches.Add(new Mismatch(key, service[key], double.NaN, "not in the R reference"));
        }

        return (mismatches, errors);
    }

    private static List<string> BuildColumns()
    {
        var columns = new List<string>
        {
            "homa_ir", "log_homa_ir", "age", "height", "weight", "bmi", "waist", "thigh", "glucose", "insulin", "triglycerides",
            "hdl_cholesterol", "vitamin_d", "egfr", "creatinine", "black_race", "hs_crp", "alcohol_1_unit_per_day", "current_smoking", "physical_activity_category",
            "neck_cortical_depth", "neck_width", "hip_axis_length", "neck_shaft_angle", "compressive_strength_index", "section_modulus",
            "buckling_ratio",
        };
        foreach (var region in Regions)
        {
            foreach (var measure in new[] { "total_volume", "cortical_volume", "trabecular_volume", "total_vbmd", "cortical_vbmd", "trabecular_vbmd" })
            {
                columns.Add(region + "." + measure);
            }
        }

        return columns;
    }

    private static double Derived(DerivedValue? value) => value is { ResultCase: DerivedValue.ResultOneofCase.Value } v ? v.Value : double.NaN;

    private static double Lab(Quantity? quantity, string canonical, (string Unit, Func<double, double> ToCanonical) alternative)
    {
        if (quantity is null)
        {
            return double.NaN;
        }

        var unit = quantity.Unit.Trim();
        if (unit.Length == 0 || unit == canonical || (canonical == "uIU/mL" && unit is "µIU/mL" or "[iU]/mL" or "u[IU]/mL" or "mU/L" or "m[IU]/L"))
        {
            return quantity.Value;
        }

        Assert.True(unit == alternative.Unit || (alternative.Unit == "umol/L" && unit == "µmol/L"), $"unexpected unit '{unit}' (canonical {canonical})");
        return alternative.ToCanonical(quantity.Value);
    }

    private static string Format(double value) => double.IsNaN(value) ? "NA" : value.ToString("R", CultureInfo.InvariantCulture);

    private static double Parse(string text) => text == "NA" ? double.NaN : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}
