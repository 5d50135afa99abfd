namespace HomaBone.Statistics.Bench;

/// <summary>A synthetic cohort shaped like the study: 14 bone outcomes and the model covariates.</summary>
public static class Cohort
{
    public const int Outcomes = 14;

    /// <summary>Covariate columns after the outcomes: lhoma, age, height, weight, waist, thigh, smoking, alcohol, pa2, pa3, vitd, lcrp.</summary>
    public const int Covariates = 12;

    public const int Width = Outcomes + Covariates;

    /// <summary>Model 1: lhoma, age, height, weight.</summary>
    public static readonly int[] Model1 = [14, 15, 16, 17];

    /// <summary>Model 2: lhoma, age, height, waist, thigh.</summary>
    public static readonly int[] Model2 = [14, 15, 16, 18, 19];

    /// <summary>Model 3: model 2 + smoking, alcohol, PA (2 dummies), 25(OH)D, lcrp.</summary>
    public static readonly int[] Model3 = [14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25];

    public static double[] Row(Random rng)
    {
        var row = new double[Width];
        var lhoma = 0.5 + (0.45 * Normal(rng));
        var age = 57 + (7 * Normal(rng));
        var height = 155 + (5 * Normal(rng));
        var weight = 56 + (8 * Normal(rng));
        row[14] = lhoma;
        row[15] = age;
        row[16] = height;
        row[17] = weight;
        row[18] = 80 + (0.8 * (weight - 56)) + (5 * Normal(rng));
        row[19] = 50 + (0.3 * (weight - 56)) + (3 * Normal(rng));
        row[20] = rng.NextDouble() < 0.05 ? 1 : 0;
        row[21] = rng.NextDouble() < 0.1 ? 1 : 0;
        var pa = rng.NextDouble();
        row[22] = pa is > 0.4 and < 0.8 ? 1 : 0;
        row[23] = pa >= 0.8 ? 1 : 0;
        row[24] = 18 + (6 * Normal(rng));
        row[25] = -0.5 + Normal(rng);
        for (var o = 0; o < Outcomes; o++)
        {
            row[o] = 300 + (10 * o) - (5 * lhoma) - (0.8 * age) + (0.3 * weight) + (0.2 * height) + (20 * Normal(rng));
        }

        return row;
    }

    public static double Normal(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Answers models 1–3 for all 14 outcomes from one co-moment accumulator (42 regressions).</summary>
    public static double AllModels(CoMoments moments)
    {
        var checksum = 0.0;
        foreach (var model in (int[][])[Model1, Model2, Model3])
        {
            for (var o = 0; o < Outcomes; o++)
            {
                checksum += moments.Regress(o, model).Coefficients[1].Estimate;
            }
        }

        return checksum;
    }
}
