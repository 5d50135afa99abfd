using Grpc.Core;
using HomaBone.Contracts.V1;

namespace HomaBone.Gateway.Services;

/// <summary>QctService: the DICOM analysis arrives with the QCT issue; until then it says so.</summary>
internal sealed class QctApi : QctService.QctServiceBase
{
    public override Task<AnalyzeSeriesResponse> AnalyzeSeries(IAsyncStreamReader<AnalyzeSeriesRequest> requestStream, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "not implemented yet: QCT from DICOM (issue 6) implements this RPC"));
}
