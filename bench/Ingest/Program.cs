using System.Diagnostics;
using System.Globalization;
using HomaBone.Ingest.Bench;

// Bulk ingest of N synthetic participants through ImportParticipants into the embedded store (acknowledged = durable),
// then raw SQLite inserting the same rows (same payload sizes) into the same tables in one transaction on a fresh file.
// Usage: dotnet run -c Release --project bench/Ingest -- [--count 100000] [--batch 500] [--streams 4]
//        [--address http://127.0.0.1:5080] [--gateway path/to/HomaBone.Gateway.dll] [--seed 2018]
var options = BenchOptions.Parse(args);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HomaBone ingest bench: {options.Count:N0} participants, batches of {options.BatchSize}, {options.Streams} streams, seed {options.Seed}"));

var generation = Stopwatch.StartNew();
var batches = IngestRunner.PrepareBatches(options);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generated and encoded {batches.Count:N0} batches in {generation.Elapsed.TotalSeconds:F1} s (not timed below)"));

var dataDirectory = Directory.CreateTempSubdirectory("homabone-ingest-bench-").FullName;
try
{
    await using var gateway = options.Address is null ? await GatewayProcess.StartAsync(options.GatewayDll, dataDirectory) : null;
    var address = options.Address ?? gateway!.GrpcAddress;
    var ingest = await IngestRunner.RunAsync(address, batches, options);
    var ingestRate = ingest.Stored / ingest.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ImportParticipants: {ingest.Stored:N0} stored, {ingest.Failed:N0} failed in {ingest.Elapsed.TotalSeconds:F1} s = {ingestRate:N0} participants/s (cohort reports {ingest.CohortCount:N0})"));
    if (ingest.FirstFailure is { } failure)
    {
        Console.WriteLine("first failure: " + failure);
    }

    // The same rows: read what the service stored (ids, etags, request ids, payload sizes) from its file.
    string? storeFile = options.Address is null ? Path.Combine(dataDirectory, "homabone.db") : options.StoreFile;
    if (storeFile is null)
    {
        Console.WriteLine("raw SQLite comparison skipped: pass --store-file with --address");
        return 0;
    }

    if (gateway is not null)
    {
        await gateway.StopAsync();
    }

    var rows = RawSqliteBaseline.ReadStoredRows(storeFile, ingest.CohortId);

    var raw = RawSqliteBaseline.Run(rows, Path.Combine(dataDirectory, "raw.db"));
    var rawRate = rows.Count / raw.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw SQLite, one transaction: {rows.Count:N0} participants ({rows.Count * RawSqliteBaseline.TableRowsPerParticipant:N0} table rows, mean payload {rows.Average(r => r.PayloadLength):F0} B) in {raw.TotalSeconds:F1} s = {rawRate:N0} participants/s = {rawRate * RawSqliteBaseline.TableRowsPerParticipant:N0} rows/s"));
    var ratio = ingestRate / rawRate;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio ingest / raw = {ratio:F3} (target >= 0.25): {(ratio >= 0.25 ? "met" : "NOT met")}"));
    return ingest.Failed == 0 ? 0 : 1;
}
finally
{
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    try
    {
        Directory.Delete(dataDirectory, recursive: true);
    }
    catch (IOException)
    {
    }
}
