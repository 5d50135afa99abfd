using System.Globalization;

namespace HomaBone.Ingest.Bench;

/// <summary>Command-line options.</summary>
internal sealed record BenchOptions
{
    public int Count { get; init; } = 100_000;

    public int BatchSize { get; init; } = 500;

    public int Streams { get; init; } = 4;

    public int Seed { get; init; } = 2018;

    public string? Address { get; init; }

    public string? StoreFile { get; init; }

    public string? GatewayDll { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--count" => options with { Count = int.Parse(value, CultureInfo.InvariantCulture) },
                "--batch" => options with { BatchSize = int.Parse(value, CultureInfo.InvariantCulture) },
                "--streams" => options with { Streams = int.Parse(value, CultureInfo.InvariantCulture) },
                "--seed" => options with { Seed = int.Parse(value, CultureInfo.InvariantCulture) },
                "--address" => options with { Address = value },
                "--store-file" => options with { StoreFile = value },
                "--gateway" => options with { GatewayDll = value },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
            i++;
        }

        return options;
    }
}
