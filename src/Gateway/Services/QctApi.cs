using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Qct;
using HomaBone.Qct.Dicom;

namespace HomaBone.Gateway.Services;

/// <summary>
/// QctService.AnalyzeSeries: a header, then the CT and label files in chunks (bounded in count and size);
/// the series is analysed by the managed DICOM reader and QCT library, and optionally stored as a new
/// revision of a participant's QCT record.
/// </summary>
internal sealed class QctApi(IGrainFactory grains) : QctService.QctServiceBase
{
    /// <summary>Largest accepted upload (all files together).</summary>
    public const long MaxUploadBytes = 1L << 30;

    /// <summary>Most files in one upload.</summary>
    public const int MaxFiles = 4096;

    public override async Task<AnalyzeSeriesResponse> AnalyzeSeries(IAsyncStreamReader<AnalyzeSeriesRequest> requestStream, ServerCallContext context)
    {
        AnalyzeSeriesHeader? header = null;
        var files = new Dictionary<string, (SeriesFileKind Kind, MemoryStream Data)>(StringComparer.Ordinal);
        long total = 0;
        await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
        {
            if (message.PartCase == AnalyzeSeriesRequest.PartOneofCase.Header)
            {
                if (header is not null || files.Count > 0)
                {
                    GrpcErrors.ThrowInvalid("the upload is invalid", [new("header", "must be sent once, as the first message")]);
                }

                header = message.Header;
                continue;
            }

            if (header is null)
            {
                GrpcErrors.ThrowInvalid("the upload is invalid", [new("header", "must be the first message")]);
            }

            var chunk = message.Chunk;
            if (chunk is null || chunk.FileId.Length is 0 or > 128 || chunk.Kind == SeriesFileKind.Unspecified)
            {
                GrpcErrors.ThrowInvalid("the upload is invalid", [new("chunk", "needs a file_id (1-128 characters) and a kind (CT or LABEL)")]);
            }

            total += chunk.Data.Length;
            if (total > MaxUploadBytes)
            {
                throw new RpcException(new Grpc.Core.Status(StatusCode.ResourceExhausted, $"the upload exceeds {MaxUploadBytes} bytes"));
            }

            if (!files.TryGetValue(chunk.FileId, out var file))
            {
                if (files.Count >= MaxFiles)
                {
                    throw new RpcException(new Grpc.Core.Status(StatusCode.ResourceExhausted, $"the upload exceeds {MaxFiles} files"));
                }

                file = (chunk.Kind, new MemoryStream());
                files[chunk.FileId] = file;
            }
            else if (file.Kind != chunk.Kind)
            {
                GrpcErrors.ThrowInvalid("the upload is invalid", [new("chunk.kind", "every chunk of a file must have the same kind")]);
            }

            chunk.Data.WriteTo(file.Data);
        }

        if (header is null)
        {
            GrpcErrors.ThrowInvalid("the upload is invalid", [new("header", "is required")]);
        }

        var ct = files.Values.Where(f => f.Kind == SeriesFileKind.Ct).Select(f => f.Data.ToArray()).ToList();
        var labels = files.Values.Where(f => f.Kind == SeriesFileKind.Label).Select(f => f.Data.ToArray()).ToList();
        if (ct.Count == 0 || labels.Count == 0)
        {
            GrpcErrors.ThrowInvalid("the upload is invalid", [new("chunk.kind", "the upload needs CT files and region-label files")]);
        }

        string cohortId = string.Empty, participantId = string.Empty;
        if (header.Participant.Length > 0 && !ResourceNames.TryParseParticipant(header.Participant, out cohortId, out participantId))
        {
            GrpcErrors.ThrowInvalid("the upload is invalid", [new("header.participant", "must be cohorts/{cohort}/participants/{participant}")]);
        }

        var options = new QctOptions
        {
            Phantom = header.Phantom == Contracts.V1.PhantomKind.SolidHydroxyapatite ? HomaBone.Qct.Calibration.PhantomKind.SolidHydroxyapatite : HomaBone.Qct.Calibration.PhantomKind.MindwaysLiquidK2HPO4,
            PhantomSerial = header.PhantomSerial.Length > 0 ? header.PhantomSerial : null,
        };
        QctResult result;
        try
        {
            result = await Task.Run(() => QctAnalyzer.Analyze(ct, labels, options), context.CancellationToken);
        }
        catch (DicomUnsupportedTransferSyntaxException ex)
        {
            throw new Google.Rpc.Status { Code = (int)Code.FailedPrecondition, Message = ex.Message }.ToRpcException();
        }
        catch (Exception ex) when (ex is DicomException or QctInputException)
        {
            throw new Google.Rpc.Status { Code = (int)Code.InvalidArgument, Message = ex.Message }.ToRpcException();
        }

        var response = new AnalyzeSeriesResponse
        {
            Calibration = new Contracts.V1.CalibrationFit
            {
                Slope = result.Calibration.Slope,
                Intercept = result.Calibration.Intercept,
                RSquared = result.Calibration.RSquared,
                Phantom = header.Phantom == Contracts.V1.PhantomKind.SolidHydroxyapatite ? Contracts.V1.PhantomKind.SolidHydroxyapatite : Contracts.V1.PhantomKind.MindwaysK2Hpo4,
            },
        };
        foreach (var measure in result.ToMeasures())
        {
            if (measure.Value is { } value && double.IsFinite(value))
            {
                var dot = measure.Key.IndexOf('.', StringComparison.Ordinal);
                response.Measures.Add(new Contracts.V1.QctMeasure { Region = dot > 0 ? measure.Key[..dot] : string.Empty, Name = dot > 0 ? measure.Key[(dot + 1)..] : measure.Key, Value = value, Unit = measure.Unit });
            }
        }

        response.Warnings.AddRange(result.Warnings.Select(w => $"{w.Code}: {w.Message}"));
        if (header.Participant.Length > 0)
        {
            response.Participant = await AttachAsync(cohortId, participantId, header.RequestId, result);
        }

        return response;
    }

    private async Task<Participant> AttachAsync(string cohortId, string participantId, string requestId, QctResult result)
    {
        var grain = grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohortId, participantId));
        var current = Participant.Parser.ParseFrom(GrpcErrors.Unwrap(await grain.GetAsync(0)));
        var record = current.Record?.Clone() ?? new ParticipantRecord();
        var qct = record.Qct?.Clone() ?? new Contracts.V1.QctMeasures();
        qct.FemoralNeck = Region(result.Region("neck"));
        qct.Trochanter = Region(result.Region("trochanter"));
        qct.Intertrochanter = Region(result.Region("intertrochanter"));
        qct.TotalHip = Region(result.Region("total"));
        if (result.Neck is { } neck)
        {
            qct.NeckArealBmdGCm2 = neck.ArealBmdGPerCm2;
            qct.NeckWidthCm = neck.NeckWidthCm;
            // The unmixed cortical depth (not Beck's ECT, which counts trabecular mineral as wall).
            if (double.IsFinite(neck.CorticalDepthCm))
            {
                qct.NeckCorticalDepthMm = neck.CorticalDepthCm * 10;
            }
        }

        record.Qct = qct;
        var reply = await grain.UpsertAsync(new UpsertParticipantCommand(record.ToByteArray(), requestId, current.Etag));
        return Participant.Parser.ParseFrom(GrpcErrors.Unwrap(reply));
    }

    // The study's measures are partial-volume corrected (study.md); the corrected compartments are stored.
    private static Contracts.V1.RegionMeasures Region(HomaBone.Qct.Measures.RegionMeasures? region) => region is null ? new() : new()
    {
        TotalVbmdMgCm3 = region.IntegralCorrected.VbmdMgPerCm3,
        CorticalVbmdMgCm3 = region.CorticalCorrected.VbmdMgPerCm3,
        TrabecularVbmdMgCm3 = region.TrabecularCorrected.VbmdMgPerCm3,
        TotalVolumeCm3 = region.IntegralCorrected.VolumeCm3,
        CorticalVolumeCm3 = region.CorticalCorrected.VolumeCm3,
        TrabecularVolumeCm3 = region.TrabecularCorrected.VolumeCm3,
    };
}
