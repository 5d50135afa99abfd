using System.Globalization;

namespace HomaBone.Cluster.Bench;

/// <summary>Command line of the cluster bench.</summary>
internal sealed record BenchOptions
{
    public int Count { get; init; } = 20_000;

    public int Streams { get; init; } = 4;

    public int BatchSize { get; init; } = 100;

    public int Rounds { get; init; } = 11;

    public int Seed { get; init; } = 2018;

    public IReadOnlyList<int> Silos { get; init; } = [1, 2, 3];

    public bool Embedded { get; init; } = true;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--count" => options with { Count = Int() },
                "--streams" => options with { Streams = Int() },
                "--batch" => options with { BatchSize = Int() },
                "--rounds" => options with { Rounds = Int() },
                "--seed" => options with { Seed = Int() },
                "--silos" => options with { Silos = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))] },
                "--no-embedded" => options with { Embedded = false },
                _ => throw new ArgumentException($"unknown option {args[i]}; options: --count N --streams N --batch N --rounds N --seed N --silos 1,2,3 --no-embedded"),
            };
        }

        if (options.Count < 1 || options.Streams < 1 || options.BatchSize < 1 || options.Rounds < 1 || options.Silos.Any(n => n < 1))
        {
            throw new ArgumentException("counts must be positive");
        }

        return options;
    }
}
