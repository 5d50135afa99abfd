using System.Runtime.InteropServices;
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
internal sealed class QctApi(IGrainFactory grains) : QctServiceBinding.QctServiceBase
{
    /// <summary>Largest accepted upload (all files together).</summary>
    public const long MaxUploadBytes = 1L << 30;

    /// <summary>Most files in one upload.</summary>
    public const int MaxFiles = 4096;

    public override async Task<AnalyzeSeriesResponse> AnalyzeSeries(IAsyncStreamReader<AnalyzeSeriesRequest> requestStream, ServerCallContext context)
    {
        var order = new List<UploadedFile>();
        try
        {
            return await AnalyzeUploadAsync(requestStream, context, order);
        }
        finally
        {
            // The analysis has ended (or never started): nothing refers to the files' bytes any more.
            order.ForEach(f => f.ReturnBuffer());
        }
    }

    private async Task<AnalyzeSeriesResponse> AnalyzeUploadAsync(IAsyncStreamReader<AnalyzeSeriesRequest> requestStream, ServerCallContext context, List<UploadedFile> order)
    {
        AnalyzeSeriesHeader? header = null;
        var files = new Dictionary<string, UploadedFile>(StringComparer.Ordinal);
        UploadedFile? previous = null;
        long total = 0;
        var readOptions = DicomReadOptions.Default;
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

                file = new UploadedFile(chunk.Kind);
                files[chunk.FileId] = file;
                order.Add(file);
            }
            else if (file.Kind != chunk.Kind)
            {
                GrpcErrors.ThrowInvalid("the upload is invalid", [new("chunk.kind", "every chunk of a file must have the same kind")]);
            }

            file.Append(chunk.Data);

            // Chunks of one file arrive in order and files usually follow one another: when the stream moves on to
            // another file, the previous one is parsed while the next arrives (a guess; an interleaved file that
            // grows afterwards is parsed again at the end).
            if (previous is not null && !ReferenceEquals(previous, file))
            {
                previous.TryParse(readOptions);
            }

            previous = file;
        }

        if (header is null)
        {
            GrpcErrors.ThrowInvalid("the upload is invalid", [new("header", "is required")]);
        }

        if (!order.Exists(f => f.Kind == SeriesFileKind.Ct) || !order.Exists(f => f.Kind == SeriesFileKind.Label))
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
            ReadOptions = readOptions,
            Phantom = header.Phantom == Contracts.V1.PhantomKind.SolidHydroxyapatite ? HomaBone.Qct.Calibration.PhantomKind.SolidHydroxyapatite : HomaBone.Qct.Calibration.PhantomKind.MindwaysLiquidK2HPO4,
            PhantomSerial = header.PhantomSerial.Length > 0 ? header.PhantomSerial : null,
        };
        QctResult result;
        try
        {
            result = await Task.Run(
                () =>
                {
                    var ct = order.Where(f => f.Kind == SeriesFileKind.Ct).Select(f => f.Parse(readOptions)).ToList();
                    var labels = order.Where(f => f.Kind == SeriesFileKind.Label).Select(f => f.Parse(readOptions)).ToList();
                    return QctAnalyzer.Analyze(ct, labels, options);
                },
                context.CancellationToken);
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

    /// <summary>
    /// One uploaded file. A file sent as a single chunk keeps the chunk's own buffer (a reused one from
    /// <see cref="UploadBuffers"/>, see <see cref="QctServiceBinding"/>), so nothing is copied; chunks of a larger file
    /// are appended to a buffer that grows by doubling (each chunk's buffer then goes back at once).
    /// </summary>
    private sealed class UploadedFile(SeriesFileKind kind)
    {
        private byte[] _data = [];
        private int _length;
        private bool _adopted;
        private DicomFile? _parsed;
        private int _parsedLength = -1;

        public SeriesFileKind Kind { get; } = kind;

        public void Append(ByteString data)
        {
            var memory = data.Memory;
            if (_length == 0 && MemoryMarshal.TryGetArray(memory, out var segment) && segment.Array is not null && segment.Offset == 0)
            {
                _data = segment.Array;
                _length = segment.Count;
                _adopted = true;
                return;
            }

            if (_length + memory.Length > _data.Length || _adopted)
            {
                var grown = new byte[Math.Max(_length + memory.Length, (int)Math.Min(2L * _length, Array.MaxLength))];
                _data.AsSpan(0, _length).CopyTo(grown);
                ReturnBuffer();
                _data = grown;
            }

            memory.Span.CopyTo(_data.AsSpan(_length));
            _length += memory.Length;
            if (MemoryMarshal.TryGetArray(memory, out var copied))
            {
                UploadBuffers.Return(copied.Array);
            }
        }

        /// <summary>Parses what has arrived so far; a failure is left for <see cref="Parse"/> to report.</summary>
        public void TryParse(DicomReadOptions options)
        {
            if (_parsedLength == _length)
            {
                return;
            }

            try
            {
                _parsed = DicomFile.Open(_data, _length, options);
                _parsedLength = _length;
            }
            catch (Exception ex) when (ex is DicomException)
            {
                _parsed = null;
            }
        }

        public DicomFile Parse(DicomReadOptions options)
        {
            if (_parsed is null || _parsedLength != _length)
            {
                _parsed = DicomFile.Open(_data, _length, options);
                _parsedLength = _length;
            }

            return _parsed;
        }

        /// <summary>Hands an adopted chunk buffer back to <see cref="UploadBuffers"/>; the file is not read afterwards.</summary>
        public void ReturnBuffer()
        {
            if (_adopted)
            {
                _adopted = false;
                _parsed = null;
                UploadBuffers.Return(_data);
            }
        }
    }
}
