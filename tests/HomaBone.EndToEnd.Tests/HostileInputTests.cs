using System.Collections.Concurrent;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using HomaBone.Contracts.V1;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// Hostile input through the real gRPC endpoint: well over a thousand seeded malformed records sent by
/// UpsertParticipant and ImportParticipants, oversized messages, malformed names and page tokens. Every one must
/// get a clear error (INVALID_ARGUMENT with a non-empty google.rpc.BadRequest naming the field, or the documented
/// status), the process must stay up, and nothing stored may change (read back byte for byte).
/// </summary>
public sealed class HostileInputTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const int Seed = 20181123;
    private const int UpsertCases = 700;
    private const int ImportCases = 700;
    private const int ImportBatchSize = 100;
    private const string RecordPrefix = "participant.record.";

    // Accepted unit spellings per analyte (src/Grains/DomainDeriver.cs); the generator never picks one of these.
    private static readonly Dictionary<string, string[]> AcceptedUnits = new(StringComparer.Ordinal)
    {
        ["glucose"] = ["mg/dL", "mmol/L"],
        ["insulin"] = ["uIU/mL", "µIU/mL", "[iU]/mL", "u[IU]/mL", "mU/L", "m[IU]/L", "pmol/L"],
        ["hba1c"] = ["%", "mmol/mol"],
        ["total_cholesterol"] = ["mg/dL", "mmol/L"],
        ["hdl_cholesterol"] = ["mg/dL", "mmol/L"],
        ["ldl_cholesterol"] = ["mg/dL", "mmol/L"],
        ["triglycerides"] = ["mg/dL", "mmol/L"],
        ["hs_crp"] = ["mg/L", "mg/dL"],
        ["vitamin_d"] = ["ng/mL", "nmol/L"],
        ["creatinine"] = ["mg/dL", "umol/L", "µmol/L"],
    };

    private static readonly string[] KnownUnits = ["mg/dL", "mmol/L", "uIU/mL", "pmol/L", "umol/L", "µmol/L", "ng/mL", "nmol/L", "mg/L", "%", "mmol/mol"];

    private static readonly string[] JunkUnits =
    [
        "mg/dl", "MG/DL", "mmol/l", "MMOL/L", "mg per dL", "mg/dL\u200b", "m g/dL", "mg//dL", "µg/L", "g/L", "°C", "kg", "IU", "\0", "null",
        "undefined", "NaN", "mg/dL; DROP TABLE participants;--", "../../etc/passwd", "%%", "\ud83e\uddea", "mmol/L/L", "µ", "ul", "-",
    ];

    private static readonly FieldRef[] NumericFields = CollectNumericFields();

    private readonly ParticipantService.ParticipantServiceClient _participants = new(fixture.Service.CreateChannel());
    private readonly CohortService.CohortServiceClient _cohorts = new(fixture.Service.CreateChannel());

    [Fact]
    public async Task MalformedRecords_UpsertAndImport_AllRejectedProcessUpAndNothingStoredChanges()
    {
        var cohort = (await _cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = ServiceFixture.NewId("hostile"), Cohort = new Cohort() })).Cohort;
        var seeded = await SeedAsync(cohort.Name);
        var before = await SnapshotAsync(cohort.Name, seeded);
        var rng = new Random(Seed);
        var failures = new ConcurrentQueue<string>();
        var freshNames = new ConcurrentBag<string>();

        // UpsertParticipant: one malformed request per call, a few in flight at once.
        var upserts = Enumerable.Range(0, UpsertCases).Select(i => NewUpsertCase(rng, cohort.Name, seeded, i)).ToList();
        await Parallel.ForEachAsync(upserts, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (c, cancellationToken) =>
        {
            try
            {
                await _participants.UpsertParticipantAsync(c.Request, cancellationToken: cancellationToken);
                failures.Enqueue($"upsert {c.Label}: accepted");
            }
            catch (RpcException ex)
            {
                CheckInvalid(ex.StatusCode, ex.GetRpcStatus(), c.ExpectedFields, "upsert " + c.Label, failures);
            }

            if (c.FreshName is { } fresh)
            {
                freshNames.Add(fresh);
            }
        });

        // ImportParticipants: batches of malformed entries on one stream, a status per entry, in order.
        var imports = Enumerable.Range(0, ImportCases).Select(i => NewImportCase(rng, seeded, i)).ToList();
        using (var call = _participants.ImportParticipants(deadline: DateTime.UtcNow.AddSeconds(90)))
        {
            // Read while writing: the server answers each message before it reads the next, so a client that only
            // reads at the end deadlocks once the HTTP/2 flow-control windows fill.
            var reading = Task.Run(async () =>
            {
                var received = new List<ImportResult>();
                await foreach (var response in call.ResponseStream.ReadAllAsync())
                {
                    received.AddRange(response.Results);
                }

                return received;
            });
            foreach (var chunk in imports.Chunk(ImportBatchSize))
            {
                var batch = new ImportParticipantsRequest { Parent = cohort.Name };
                batch.Entries.AddRange(chunk.Select(c => c.Entry));
                await call.RequestStream.WriteAsync(batch);
            }

            await call.RequestStream.CompleteAsync();
            var results = await reading;

            Assert.Equal(Enumerable.Range(0, ImportCases).Select(i => (long)i), results.Select(r => r.Index));
            foreach (var (c, result) in imports.Zip(results))
            {
                CheckInvalid((StatusCode)result.Status.Code, result.Status, c.ExpectedFields, "import " + c.Label, failures);
                if (result.Revision != 0 || result.Etag.Length > 0)
                {
                    failures.Enqueue($"import {c.Label}: a revision or etag was returned for a rejected record");
                }

                if (c.FreshId is { } id)
                {
                    freshNames.Add(cohort.Name + "/participants/" + id);
                }
            }
        }

        Assert.True(failures.IsEmpty, $"{failures.Count} of {UpsertCases + ImportCases} malformed records were not answered as expected:\n" + string.Join('\n', failures.Take(40)));
        await AssertServingAsync();
        Assert.Equal(before, await SnapshotAsync(cohort.Name, seeded));

        // No malformed record left anything behind under its own name either.
        Assert.True(freshNames.Count >= 1000, $"only {freshNames.Count} malformed records had a well-formed name");
        var found = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(freshNames.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (name, cancellationToken) =>
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => _participants.GetParticipantAsync(new GetParticipantRequest { Name = name }, cancellationToken: cancellationToken).ResponseAsync);
            if (error.StatusCode != StatusCode.NotFound)
            {
                found.Enqueue($"{name}: {error.StatusCode}");
            }
        });
        Assert.Empty(found);
    }

    [Fact]
    public async Task OversizedMessages_UpsertAndImport_ResourceExhaustedAndNothingStoredChanges()
    {
        var cohort = (await _cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = ServiceFixture.NewId("huge"), Cohort = new Cohort() })).Cohort;
        var seeded = await SeedAsync(cohort.Name);
        var before = await SnapshotAsync(cohort.Name, seeded);

        // The server's receive limit is 16 MiB (src/Gateway/GatewayExtensions.cs).
        foreach (var size in new[] { (16 * 1024 * 1024) + 1, 17 * 1024 * 1024, 24 * 1024 * 1024 })
        {
            var record = FullRecord(60);
            record.Labs.Glucose.Unit = new string('x', size);
            var request = new UpsertParticipantRequest { Participant = new Participant { Name = seeded[0], Record = record }, RequestId = "huge-" + size.ToString(CultureInfo.InvariantCulture) };
            var error = await Assert.ThrowsAsync<RpcException>(() => _participants.UpsertParticipantAsync(request).ResponseAsync);
            Assert.True(error.StatusCode == StatusCode.ResourceExhausted, $"{size}: {error.StatusCode} {error.Status.Detail} {error.Status.DebugException}");
        }

        using (var call = _participants.ImportParticipants(deadline: DateTime.UtcNow.AddSeconds(90)))
        {
            var batch = new ImportParticipantsRequest { Parent = cohort.Name };
            for (var i = 0; i < 9; i++)
            {
                var record = FullRecord(60);
                record.Labs.Insulin.Unit = new string('y', 2 * 1024 * 1024);
                batch.Entries.Add(new ImportEntry { ParticipantId = "big" + i.ToString(CultureInfo.InvariantCulture), Record = record });
            }

            // The server ends the call as soon as it sees the length prefix, while the client is still sending: the
            // write may fail (the call is over), and the answer is read from the response side.
            var writing = Task.Run(async () =>
            {
                try
                {
                    await call.RequestStream.WriteAsync(batch);
                    await call.RequestStream.CompleteAsync();
                }
                catch (Exception ex) when (ex is RpcException or OperationCanceledException or InvalidOperationException)
                {
                }
            });
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                await foreach (var unused in call.ResponseStream.ReadAllAsync())
                {
                    Assert.Fail("an oversized import message was answered with results");
                }
            });
            await writing;
            Assert.True(error.StatusCode == StatusCode.ResourceExhausted, $"import: {error.StatusCode} {error.Status.Detail} {error.Status.DebugException}");
        }

        await AssertServingAsync();
        Assert.Equal(before, await SnapshotAsync(cohort.Name, seeded));
    }

    [Fact]
    public async Task StreamLevelErrors_BadParentUnknownCohortTooManyEntries_DocumentedStatusAndNothingStored()
    {
        var cohort = (await _cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = ServiceFixture.NewId("stream"), Cohort = new Cohort() })).Cohort;
        var seeded = await SeedAsync(cohort.Name);
        var before = await SnapshotAsync(cohort.Name, seeded);

        var tooMany = new ImportParticipantsRequest { Parent = cohort.Name };
        tooMany.Entries.AddRange(Enumerable.Range(0, 1001).Select(i => new ImportEntry { ParticipantId = "many" + i.ToString(CultureInfo.InvariantCulture), Record = FullRecord(60) }));
        var mixedParent = new[] { new ImportParticipantsRequest { Parent = cohort.Name }, new ImportParticipantsRequest { Parent = "cohorts/" + ServiceFixture.NewId("other") } };
        mixedParent[0].Entries.Add(new ImportEntry { ParticipantId = "mixed bad id", Record = FullRecord(61) });
        mixedParent[1].Entries.Add(new ImportEntry { ParticipantId = "mixed-other", Record = FullRecord(61) });
        var cases = new (string Label, ImportParticipantsRequest[] Messages, StatusCode Expected, string? Field)[]
        {
            ("bad parent", [new ImportParticipantsRequest { Parent = "cohorts/NOT VALID" }], StatusCode.InvalidArgument, "parent"),
            ("empty parent", [new ImportParticipantsRequest()], StatusCode.InvalidArgument, "parent"),
            ("unknown cohort", [new ImportParticipantsRequest { Parent = "cohorts/" + ServiceFixture.NewId("nope"), Entries = { new ImportEntry { ParticipantId = "x", Record = FullRecord(60) } } }], StatusCode.NotFound, null),
            ("too many entries", [tooMany], StatusCode.InvalidArgument, "entries"),
            ("two cohorts on one stream", mixedParent, StatusCode.InvalidArgument, "parent"),
        };
        foreach (var (label, messages, expected, field) in cases)
        {
            using var call = _participants.ImportParticipants(deadline: DateTime.UtcNow.AddSeconds(90));
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                foreach (var message in messages)
                {
                    await call.RequestStream.WriteAsync(message);
                }

                await call.RequestStream.CompleteAsync();
                await foreach (var response in call.ResponseStream.ReadAllAsync())
                {
                    Assert.All(response.Results, r => Assert.Equal((int)Code.InvalidArgument, r.Status.Code));
                }
            });
            Assert.True(expected == error.StatusCode, $"{label}: {error.StatusCode} {error.Status.Detail}");
            if (field is not null)
            {
                Assert.Contains(error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == field);
            }
        }

        var unknownCohort = await Assert.ThrowsAsync<RpcException>(() => _participants.UpsertParticipantAsync(new UpsertParticipantRequest
        {
            Participant = new Participant { Name = "cohorts/" + ServiceFixture.NewId("nope") + "/participants/p1", Record = FullRecord(60) },
        }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknownCohort.StatusCode);

        await AssertServingAsync();
        var after = await SnapshotAsync(cohort.Name, seeded);
        Assert.Equal(before, after);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => _participants.GetParticipantAsync(new GetParticipantRequest { Name = cohort.Name + "/participants/many0" }).ResponseAsync)).StatusCode);
    }

    [Fact]
    public async Task BadPageTokensAndListArguments_InvalidArgumentWithFieldViolation()
    {
        var cohort = (await _cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = ServiceFixture.NewId("tokens"), Cohort = new Cohort() })).Cohort;
        var seeded = await SeedAsync(cohort.Name);
        var before = await SnapshotAsync(cohort.Name, seeded);
        var valid = (await _participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = cohort.Name, PageSize = 1 })).NextPageToken;
        Assert.NotEmpty(valid);
        var other = (await _cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = ServiceFixture.NewId("tokens"), Cohort = new Cohort() })).Cohort;

        var rng = new Random(Seed + 1);
        var requests = new List<(ListParticipantsRequest Request, string Field)>
        {
            (new ListParticipantsRequest { Parent = cohort.Name, PageToken = valid, ShowWithdrawn = true }, "page_token"),
            (new ListParticipantsRequest { Parent = other.Name, PageToken = valid }, "page_token"),
            (new ListParticipantsRequest { Parent = cohort.Name, PageToken = Base64Url("v1|" + cohort.Name["cohorts/".Length..] + "|0|") }, "page_token"),
            (new ListParticipantsRequest { Parent = cohort.Name, PageToken = Base64Url("v2|" + cohort.Name["cohorts/".Length..] + "|0|p") }, "page_token"),
            (new ListParticipantsRequest { Parent = cohort.Name, PageToken = new string('A', 100_000) }, "page_token"),
            (new ListParticipantsRequest { Parent = cohort.Name, PageSize = -1 }, "page_size"),
            (new ListParticipantsRequest { Parent = cohort.Name, PageSize = 1001 }, "page_size"),
            (new ListParticipantsRequest { Parent = cohort.Name, PageSize = int.MinValue }, "page_size"),
            (new ListParticipantsRequest { Parent = "cohorts/" }, "parent"),
            (new ListParticipantsRequest { Parent = "cohorts/UPPER" }, "parent"),
            (new ListParticipantsRequest { Parent = cohort.Name + "\n" }, "parent"),
            (new ListParticipantsRequest { Parent = cohort.Name + "/participants" }, "parent"),
        };
        for (var i = 0; i < 60; i++)
        {
            var bytes = new byte[rng.Next(1, 200)];
            rng.NextBytes(bytes);
            var token = (i % 3) switch
            {
                0 => Convert.ToBase64String(bytes),
                1 => Base64Url(System.Text.Encoding.Latin1.GetString(bytes)),
                _ => RandomString(rng, rng.Next(1, 300)),
            };
            requests.Add((new ListParticipantsRequest { Parent = cohort.Name, PageToken = token }, "page_token"));
        }

        foreach (var (request, field) in requests)
        {
            try
            {
                var page = await _participants.ListParticipantsAsync(request);
                Assert.Fail($"token '{Shorten(request.PageToken)}' parent '{Shorten(request.Parent)}' was accepted ({page.Participants.Count} participants)");
            }
            catch (RpcException error)
            {
                Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"token '{Shorten(request.PageToken)}' parent '{Shorten(request.Parent)}': {error.StatusCode}");
                Assert.Contains(error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations, v => v.Field == field);
            }
        }

        var negativeRevision = await Assert.ThrowsAsync<RpcException>(() => _participants.GetParticipantAsync(new GetParticipantRequest { Name = seeded[0], Revision = -1 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, negativeRevision.StatusCode);
        Assert.Equal("revision", negativeRevision.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations.Single().Field);

        await AssertServingAsync();
        Assert.Equal(before, await SnapshotAsync(cohort.Name, seeded));
    }

    /// <summary>A complete record with every field set to a plausible, mutually consistent value (canonical units).</summary>
    internal static ParticipantRecord FullRecord(double ageYears) => new()
    {
        Demographics = new Demographics
        {
            Sex = Sex.Female,
            AgeYears = ageYears,
            MenstrualFlowWithin12Months = false,
            MonthsSinceLastMenses = 150,
            AntidiabeticMedication = false,
            OsteoporosisTreatment = false,
            CurrentGlucocorticoid = false,
            EstrogenReplacementTherapy = false,
            LiverCirrhosis = false,
            CurrentSmoking = false,
            AlcoholUnitsPerDay = 0.5,
            BlackRace = false,
        },
        Anthropometry = new Anthropometry { HeightCm = 156.2, WeightKg = 57.4, WaistCm = 80.5, ThighCm = 50.1 },
        Labs = new Labs
        {
            Glucose = new Quantity { Value = 99, Unit = "mg/dL" },
            Insulin = new Quantity { Value = 7.2, Unit = "uIU/mL" },
            Hba1C = new Quantity { Value = 5.6, Unit = "%" },
            TotalCholesterol = new Quantity { Value = 190, Unit = "mg/dL" },
            HdlCholesterol = new Quantity { Value = 55, Unit = "mg/dL" },
            LdlCholesterol = new Quantity { Value = 110, Unit = "mg/dL" },
            Triglycerides = new Quantity { Value = 120, Unit = "mg/dL" },
            HsCrp = new Quantity { Value = 0.8, Unit = "mg/L" },
            VitaminD = new Quantity { Value = 18, Unit = "ng/mL" },
            Creatinine = new Quantity { Value = 0.7, Unit = "mg/dL" },
        },
        PhysicalActivity = new PhysicalActivity
        {
            VigorousDays = 1,
            VigorousMinutesPerDay = 30,
            ModerateDays = 3,
            ModerateMinutesPerDay = 40,
            WalkingDays = 5,
            WalkingMinutesPerDay = 30,
        },
        Qct = new QctMeasures
        {
            SpineL1L2VbmdMgCm3 = 110,
            FemoralNeck = Region(280, 600, 120, 6.0, 2.5, 3.5),
            Trochanter = Region(220, 550, 110, 14.0, 4.0, 10.0),
            Intertrochanter = Region(300, 650, 140, 20.0, 8.5, 11.5),
            TotalHip = Region(270, 620, 125, 40.0, 15.0, 25.0),
            NeckArealBmdGCm2 = 0.75,
            NeckWidthCm = 3.0,
            NeckCorticalDepthMm = 2.0,
            HipAxisLengthMm = 100,
            NeckShaftAngleDeg = 125,
        },
    };

    private static RegionMeasures Region(double totalVbmd, double corticalVbmd, double trabecularVbmd, double totalVolume, double corticalVolume, double trabecularVolume) => new()
    {
        TotalVbmdMgCm3 = totalVbmd,
        CorticalVbmdMgCm3 = corticalVbmd,
        TrabecularVbmdMgCm3 = trabecularVbmd,
        TotalVolumeCm3 = totalVolume,
        CorticalVolumeCm3 = corticalVolume,
        TrabecularVolumeCm3 = trabecularVolume,
    };

    private async Task<List<string>> SeedAsync(string cohortName)
    {
        var names = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var name = $"{cohortName}/participants/seed{i}";
            var created = (await _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = FullRecord(55 + i) }, RequestId = "seed-" + i.ToString(CultureInfo.InvariantCulture) })).Participant;
            if (i == 1)
            {
                await _participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = FullRecord(66) }, RequestId = "fix", Etag = created.Etag });
            }
            else if (i == 2)
            {
                await _participants.WithdrawParticipantAsync(new WithdrawParticipantRequest { Name = name, RequestId = "withdraw" });
            }

            names.Add(name);
        }

        return names;
    }

    /// <summary>Everything a client can read about the cohort, as bytes: both lists, the count, every revision.</summary>
    private async Task<List<string>> SnapshotAsync(string cohortName, IReadOnlyList<string> names)
    {
        var snapshot = new List<string>
        {
            (await _participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = cohortName, PageSize = 1000 })).ToByteString().ToBase64(),
            (await _participants.ListParticipantsAsync(new ListParticipantsRequest { Parent = cohortName, PageSize = 1000, ShowWithdrawn = true })).ToByteString().ToBase64(),
            (await _cohorts.GetCohortAsync(new GetCohortRequest { Name = cohortName })).Cohort.ParticipantCount.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var name in names)
        {
            var current = (await _participants.GetParticipantAsync(new GetParticipantRequest { Name = name })).Participant;
            snapshot.Add(current.ToByteString().ToBase64());
            for (var revision = 1; revision < current.Revision; revision++)
            {
                snapshot.Add((await _participants.GetParticipantAsync(new GetParticipantRequest { Name = name, Revision = revision })).Participant.ToByteString().ToBase64());
            }

            var next = await Assert.ThrowsAsync<RpcException>(() => _participants.GetParticipantAsync(new GetParticipantRequest { Name = name, Revision = current.Revision + 1 }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, next.StatusCode);
        }

        return snapshot;
    }

    private async Task AssertServingAsync()
    {
        Assert.Null(fixture.Service.ExitCode);
        var health = new Health.HealthClient(fixture.Service.CreateChannel());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        using var http = new HttpClient { BaseAddress = new Uri(fixture.Service.HttpAddress) };
        using var live = await http.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, live.StatusCode);
    }

    private static void CheckInvalid(StatusCode code, Google.Rpc.Status? status, IReadOnlyCollection<string> expectedFields, string label, ConcurrentQueue<string> failures)
    {
        if (code != StatusCode.InvalidArgument)
        {
            failures.Enqueue($"{label}: {code} {status?.Message}");
            return;
        }

        var violations = status?.Details.Where(d => d.Is(BadRequest.Descriptor)).SelectMany(d => d.Unpack<BadRequest>().FieldViolations).ToList() ?? [];
        if (violations.Count == 0)
        {
            failures.Enqueue($"{label}: INVALID_ARGUMENT without field violations ({status?.Message})");
            return;
        }

        if (violations.Any(v => v.Field.Length == 0 || v.Description.Length == 0))
        {
            failures.Enqueue($"{label}: a field violation without a field or a description");
        }

        var fields = violations.Select(v => v.Field).ToHashSet(StringComparer.Ordinal);
        var missing = expectedFields.Where(f => !fields.Contains(f)).ToList();
        if (missing.Count > 0)
        {
            failures.Enqueue($"{label}: expected violations on [{string.Join(", ", missing)}], got [{string.Join(", ", fields)}]");
        }
    }

    private static UpsertCase NewUpsertCase(Random rng, string cohortName, List<string> seeded, int index)
    {
        var label = index.ToString("D4", CultureInfo.InvariantCulture);
        var freshName = $"{cohortName}/participants/m{label}";
        var roll = rng.Next(100);
        if (roll < 8)
        {
            var (name, what) = MalformedName(rng, cohortName);
            return new UpsertCase($"{label} name {what}", new UpsertParticipantRequest { Participant = new Participant { Name = name, Record = FullRecord(60) } }, ["participant.name"], null);
        }

        if (roll < 10)
        {
            return new UpsertCase($"{label} no participant", new UpsertParticipantRequest { RequestId = "r" + label }, ["participant"], null);
        }

        if (roll < 13)
        {
            var request = new UpsertParticipantRequest { Participant = new Participant { Name = freshName, Record = FullRecord(60) }, RequestId = RandomString(rng, rng.Next(129, 5000)) };
            return new UpsertCase($"{label} long request id", request, ["request_id"], freshName);
        }

        // A tenth of the malformed records try to overwrite a seeded participant: it must stay as it was.
        var target = roll < 23 ? seeded[rng.Next(seeded.Count)] : freshName;
        var record = FullRecord(50 + rng.Next(30));
        var (expected, what2) = MutateRecord(rng, record);
        var upsert = new UpsertParticipantRequest { Participant = new Participant { Name = target, Record = record }, RequestId = "r" + label };
        return new UpsertCase($"{label} {what2} -> {target[(cohortName.Length + 1)..]}", upsert, expected, target == freshName ? freshName : null);
    }

    private static ImportCase NewImportCase(Random rng, List<string> seeded, int index)
    {
        var label = index.ToString("D4", CultureInfo.InvariantCulture);
        var freshId = "i" + label;
        var roll = rng.Next(100);
        if (roll < 8)
        {
            var id = MalformedParticipantId(rng);
            return new ImportCase($"{label} participant id '{Shorten(id)}'", new ImportEntry { ParticipantId = id, Record = FullRecord(60) }, ["participant_id"], null);
        }

        if (roll < 11)
        {
            return new ImportCase($"{label} long request id", new ImportEntry { ParticipantId = freshId, Record = FullRecord(60), RequestId = RandomString(rng, rng.Next(129, 5000)) }, ["request_id"], freshId);
        }

        var targetId = roll < 21 ? seeded[rng.Next(seeded.Count)].Split('/')[^1] : freshId;
        var record = FullRecord(50 + rng.Next(30));
        var (expected, what) = MutateRecord(rng, record);
        return new ImportCase($"{label} {what} -> {targetId}", new ImportEntry { ParticipantId = targetId, Record = record, RequestId = "r" + label }, expected, targetId == freshId ? freshId : null);
    }

    /// <summary>
    /// Breaks a valid record in one to three places of the same validation stage (structural checks run first and
    /// stop there, so they are never mixed with domain checks); returns the field paths that must be reported.
    /// </summary>
    private static (List<string> Fields, string What) MutateRecord(Random rng, ParticipantRecord record)
    {
        var structural = rng.Next(2) == 0;
        var count = 1 + rng.Next(3);
        var fields = new List<string>();
        var what = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 0; fields.Count < count && attempt < 20; attempt++)
        {
            var (path, description) = structural ? MutateStructural(rng, record, used) : MutateDomain(rng, record, used);
            if (path is not null)
            {
                fields.Add(path);
                what.Add(description);
            }
        }

        return (fields, string.Join(" + ", what));
    }

    private static (string? Path, string What) MutateStructural(Random rng, ParticipantRecord record, HashSet<string> used)
    {
        switch (rng.Next(5))
        {
            case 0:
            case 1:
                {
                    var doubles = NumericFields.Where(f => f.Field.FieldType == FieldType.Double).ToList();
                    var field = doubles[rng.Next(doubles.Count)];
                    if (!used.Add(field.Path))
                    {
                        return (null, string.Empty);
                    }

                    var value = new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity }[rng.Next(3)];
                    field.Field.Accessor.SetValue(field.Owner(record), value);
                    return (field.Path, $"{field.Path}={value}");
                }

            case 2:
                {
                    var (lab, quantity) = RandomLab(rng, record);
                    var path = RecordPrefix + "labs." + lab + ".value";
                    if (!used.Add(RecordPrefix + "labs." + lab))
                    {
                        return (null, string.Empty);
                    }

                    quantity.Value = new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity }[rng.Next(3)];
                    return (path, $"{path}={quantity.Value}");
                }

            case 3:
                {
                    var (lab, quantity) = RandomLab(rng, record);
                    if (!used.Add(RecordPrefix + "labs." + lab))
                    {
                        return (null, string.Empty);
                    }

                    // Longer than the 256-character bound; sometimes far longer (up to 1 MiB, below the 16 MiB limit).
                    var length = rng.Next(4) == 0 ? rng.Next(100_000, 1024 * 1024) : rng.Next(257, 5000);
                    quantity.Unit = RandomString(rng, length);
                    return (RecordPrefix + "labs." + lab + ".unit", $"{lab}.unit of {length} chars");
                }

            default:
                {
                    if (!used.Add(RecordPrefix + "demographics.sex"))
                    {
                        return (null, string.Empty);
                    }

                    var value = rng.Next(3) switch
                    {
                        0 => rng.Next(3, 1000),
                        1 => -rng.Next(1, 1000),
                        _ => new[] { int.MaxValue, int.MinValue, 3, -1 }[rng.Next(4)],
                    };
                    record.Demographics.Sex = (Sex)value;
                    return (RecordPrefix + "demographics.sex", $"sex={value}");
                }
        }
    }

    private static (string? Path, string What) MutateDomain(Random rng, ParticipantRecord record, HashSet<string> used)
    {
        switch (rng.Next(8))
        {
            case 0:
            case 1:
            case 2:
                {
                    // Negative or absurd: outside every plausibility range (docs/domain.md §3).
                    var field = NumericFields[rng.Next(NumericFields.Length)];
                    if (!used.Add(field.Path))
                    {
                        return (null, string.Empty);
                    }

                    var value = field.Field.FieldType == FieldType.Double
                        ? (object)new[] { -1e9, 1e9, 1e300, -double.MaxValue, double.MaxValue, -123456.789 }[rng.Next(6)]
                        : (object)new[] { -1, int.MinValue, int.MaxValue, 1_000_000_000, -7 }[rng.Next(5)];
                    field.Field.Accessor.SetValue(field.Owner(record), value);
                    return (field.Path, $"{field.Path}={value}");
                }

            case 3:
                {
                    var (lab, quantity) = RandomLab(rng, record);
                    var path = RecordPrefix + "labs." + lab;
                    if (!used.Add(path))
                    {
                        return (null, string.Empty);
                    }

                    quantity.Value = new[] { -0.001, -1e6, 1e9, 1e300 }[rng.Next(4)];
                    return (path, $"{path}={quantity.Value}");
                }

            case 4:
            case 5:
                {
                    var (lab, quantity) = RandomLab(rng, record);
                    if (!used.Add(RecordPrefix + "labs." + lab))
                    {
                        return (null, string.Empty);
                    }

                    // Another analyte's unit, a near-miss spelling, or junk; never one this analyte accepts.
                    var candidates = KnownUnits.Concat(JunkUnits).Where(u => !AcceptedUnits[lab].Contains(u.Trim(), StringComparer.Ordinal)).ToList();
                    quantity.Unit = rng.Next(4) == 0 ? "x" + RandomString(rng, rng.Next(1, 40)) : candidates[rng.Next(candidates.Count)];
                    return (RecordPrefix + "labs." + lab + ".unit", $"{lab}.unit='{Shorten(quantity.Unit)}'");
                }

            case 6:
                {
                    if (!used.Add(RecordPrefix + "labs.glucose"))
                    {
                        return (null, string.Empty);
                    }

                    // A quantity without its value (proto3 default 0): below the glucose range.
                    record.Labs.Glucose = new Quantity { Unit = "mg/dL" };
                    return (RecordPrefix + "labs.glucose", "glucose without value");
                }

            default:
                return Inconsistent(rng, record, used);
        }
    }

    private static (string? Path, string What) Inconsistent(Random rng, ParticipantRecord record, HashSet<string> used)
    {
        switch (rng.Next(4))
        {
            case 0:
                if (!used.Add(RecordPrefix + "demographics.sex"))
                {
                    return (null, string.Empty);
                }

                record.Demographics.Sex = Sex.Male;
                return (RecordPrefix + "demographics.sex", "male with menstrual history");
            case 1:
                if (!used.Add(RecordPrefix + "demographics.menstrual_flow_within_12_months") || used.Contains(RecordPrefix + "demographics.months_since_last_menses"))
                {
                    return (null, string.Empty);
                }

                used.Add(RecordPrefix + "demographics.months_since_last_menses");
                record.Demographics.MenstrualFlowWithin12Months = true;
                record.Demographics.MonthsSinceLastMenses = 150;
                return (RecordPrefix + "demographics.menstrual_flow_within_12_months", "flow within 12 months but 150 months since menses");
            case 2:
                if (!used.Add(RecordPrefix + "labs.hdl_cholesterol") || !used.Add(RecordPrefix + "labs.total_cholesterol"))
                {
                    return (null, string.Empty);
                }

                record.Labs.TotalCholesterol = new Quantity { Value = 150, Unit = "mg/dL" };
                record.Labs.HdlCholesterol = new Quantity { Value = 200, Unit = "mg/dL" };
                return (RecordPrefix + "labs.hdl_cholesterol", "HDL above total cholesterol");
            default:
                if (!used.Add(RecordPrefix + "qct.femoral_neck.cortical_volume_cm3") || !used.Add(RecordPrefix + "qct.femoral_neck.total_volume_cm3"))
                {
                    return (null, string.Empty);
                }

                record.Qct.FemoralNeck.TotalVolumeCm3 = 6.0;
                record.Qct.FemoralNeck.CorticalVolumeCm3 = 10.0;
                return (RecordPrefix + "qct.femoral_neck.cortical_volume_cm3", "cortical volume above total");
        }
    }

    private static (string Lab, Quantity Quantity) RandomLab(Random rng, ParticipantRecord record)
    {
        var fields = Labs.Descriptor.Fields.InFieldNumberOrder();
        var field = fields[rng.Next(fields.Count)];
        return (field.Name, (Quantity)field.Accessor.GetValue(record.Labs));
    }

    private static (string Name, string What) MalformedName(Random rng, string cohortName)
    {
        var cohortId = cohortName["cohorts/".Length..];
        var names = new[]
        {
            string.Empty,
            cohortName,
            cohortName + "/participants/",
            cohortName + "/participants/a/b",
            cohortName + "/participants/" + new string('p', 65),
            cohortName + "/participants/has space",
            cohortName + "/participants/..%2F..%2Fetc",
            cohortName + "/participants/p\n",
            cohortName + "/participants/é",
            cohortName + "/participants/p\0",
            "cohorts/" + cohortId.ToUpperInvariant() + "/participants/p",
            "Cohorts/" + cohortId + "/participants/p",
            cohortName + "/people/p",
            "cohorts//participants/p",
            "/" + cohortName + "/participants/p",
            cohortName + "/participants/p/",
            "cohorts/" + cohortId + "\n/participants/p",
            cohortName + "/participants/" + RandomString(rng, rng.Next(1, 3000)) + "/",
            RandomString(rng, rng.Next(1, 10_000)),
        };
        var pick = rng.Next(names.Length);
        return (names[pick], "#" + pick.ToString(CultureInfo.InvariantCulture));
    }

    private static string MalformedParticipantId(Random rng)
    {
        var ids = new[]
        {
            string.Empty, new string('p', 65), "has space", "a/b", "p\n", "\np", "é", "p\0", "..%2F", "p;DROP", "p\u200b",
            "tab\t", "#", "cohorts/x/participants/y", RandomString(rng, rng.Next(65, 20_000)), "x" + RandomString(rng, rng.Next(1, 30)) + "/",
        };
        return ids[rng.Next(ids.Length)];
    }

    /// <summary>Random text from a wide alphabet: ASCII punctuation and controls, accented letters, CJK, emoji.</summary>
    private static string RandomString(Random rng, int length)
    {
        const string Alphabet = "abcXYZ019 ./\\|;:'\"`~!@#$%^&*()[]{}<>?,=+-_\t\r\n\0éüßµ°±漢字😀\u200b\u202e";
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = Alphabet[rng.Next(Alphabet.Length)];
        }

        // Never leave a lone surrogate (protobuf cannot encode it as UTF-8).
        for (var i = 0; i < length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && (i + 1 == length || !char.IsLowSurrogate(chars[i + 1])))
            {
                chars[i] = '?';
            }
            else if (char.IsLowSurrogate(chars[i]) && (i == 0 || !char.IsHighSurrogate(chars[i - 1])))
            {
                chars[i] = '?';
            }
        }

        return new string(chars);
    }

    private static string Base64Url(string text) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Shorten(string text) => (text.Length > 24 ? text[..24] + "…" : text).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);

    /// <summary>Every double and int32 field of the record outside the labs, with its proto path and owner.</summary>
    private static FieldRef[] CollectNumericFields()
    {
        var result = new List<FieldRef>();
        void Walk(MessageDescriptor descriptor, Func<ParticipantRecord, IMessage> owner, string path)
        {
            foreach (var field in descriptor.Fields.InFieldNumberOrder())
            {
                var fieldPath = path + "." + field.Name;
                if (field.FieldType == FieldType.Message && field.MessageType != Quantity.Descriptor)
                {
                    var f = field;
                    Walk(field.MessageType, r => (IMessage)f.Accessor.GetValue(owner(r)), fieldPath);
                }
                else if (field.FieldType is FieldType.Double or FieldType.Int32)
                {
                    result.Add(new FieldRef(field, owner, fieldPath));
                }
            }
        }

        foreach (var field in ParticipantRecord.Descriptor.Fields.InFieldNumberOrder().Where(f => f.Name != "labs"))
        {
            var f = field;
            Walk(field.MessageType, r => (IMessage)f.Accessor.GetValue(r), "participant.record." + field.Name);
        }

        return [.. result];
    }

    private sealed record FieldRef(FieldDescriptor Field, Func<ParticipantRecord, IMessage> Owner, string Path);

    private sealed record UpsertCase(string Label, UpsertParticipantRequest Request, IReadOnlyCollection<string> ExpectedFields, string? FreshName);

    private sealed record ImportCase(string Label, ImportEntry Entry, IReadOnlyCollection<string> ExpectedFields, string? FreshId);
}
