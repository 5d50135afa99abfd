using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using HomaBone.Grains;
using HomaBone.Hosting;
using HomaBone.Storage;

namespace HomaBone.Gateway.Security;

/// <summary>
/// Writes one audit entry per call (the outermost interceptor, so denied and failed calls are audited too):
/// who, which RPC, cohort and version, parameters without health values, disclosure actions, result size,
/// duration and status. The entry is durable before a successful call is answered; if it cannot be written
/// the call answers UNAVAILABLE (fail closed: no unaccounted read).
/// </summary>
internal sealed partial class AuditInterceptor(IAuditLog log, Pseudonymizer pseudonymizer, ILogger<AuditInterceptor> logger) : Interceptor
{
    private const int MaxParameterLength = 256;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<MessageDescriptor, FieldDescriptor[]> RelevantByType = new();

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var scope = Begin(context);
        scope.Describe(request);
        TResponse response;
        try
        {
            response = await continuation(request, context);
        }
        catch (Exception ex)
        {
            await TryWriteAsync(scope, StatusOf(ex, context));
            throw;
        }

        scope.Sent(response);
        await WriteOrFailAsync(scope);
        return response;
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var scope = Begin(context);
        TResponse response;
        try
        {
            response = await continuation(new DescribingReader<TRequest>(requestStream, scope), context);
        }
        catch (Exception ex)
        {
            await TryWriteAsync(scope, StatusOf(ex, context));
            throw;
        }

        scope.Sent(response);
        await WriteOrFailAsync(scope);
        return response;
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var scope = Begin(context);
        scope.Describe(request);
        try
        {
            await continuation(request, new CountingWriter<TResponse>(responseStream, scope), context);
        }
        catch (Exception ex)
        {
            await TryWriteAsync(scope, StatusOf(ex, context));
            throw;
        }

        await WriteOrFailAsync(scope);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var scope = Begin(context);
        try
        {
            await continuation(new DescribingReader<TRequest>(requestStream, scope), new CountingWriter<TResponse>(responseStream, scope), context);
        }
        catch (Exception ex)
        {
            await TryWriteAsync(scope, StatusOf(ex, context));
            throw;
        }

        await WriteOrFailAsync(scope);
    }

    private AuditScope Begin(ServerCallContext context)
    {
        var scope = new AuditScope(context.Method, Principals.SubjectOf(context.GetHttpContext().User), pseudonymizer);
        context.UserState[AuditContextExtensions.UserStateKey] = scope;
        return scope;
    }

    private static StatusCode StatusOf(Exception exception, ServerCallContext context) => exception switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException when context.CancellationToken.IsCancellationRequested => StatusCode.Cancelled,
        _ => StatusCode.Internal,
    };

    private async Task WriteOrFailAsync(AuditScope scope)
    {
        try
        {
            await log.AppendAuditAsync(scope.ToEntry(StatusCode.OK), CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAuditFailed(logger, ex.GetType().Name);
            throw new RpcException(new Status(StatusCode.Unavailable, "the audit log is unavailable; retry"));
        }
    }

    private async Task TryWriteAsync(AuditScope scope, StatusCode status)
    {
        try
        {
            await log.AppendAuditAsync(scope.ToEntry(status), CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAuditFailed(logger, ex.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit entry could not be written ({ExceptionType})")]
    private static partial void LogAuditFailed(ILogger logger, string exceptionType);

    /// <summary>The audit entry of one call while it runs; handlers reach it through <see cref="IAuditContext"/>.</summary>
    private sealed class AuditScope(string rpc, string principal, Pseudonymizer pseudonymizer) : IAuditContext
    {
        private readonly Lock _lock = new();
        private readonly DateTimeOffset _time = DateTimeOffset.UtcNow;
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly Dictionary<string, string> _parameters = new(StringComparer.Ordinal);
        private readonly List<string> _actions = [];
        private string _cohortId = string.Empty;
        private long? _cohortVersion;
        private bool _versionFromHandler;
        private long _messages;
        private long _bytes;
        private long _requestMessages;
        private long _entries;

        public void SetCohort(string cohortId)
        {
            lock (_lock)
            {
                _cohortId = Limit(cohortId);
            }
        }

        public void SetCohortVersion(long version)
        {
            lock (_lock)
            {
                _cohortVersion = version;
                _versionFromHandler = true;
            }
        }

        public void AddDisclosureAction(string action)
        {
            lock (_lock)
            {
                _actions.Add(Limit(action));
            }
        }

        public void SetParameter(string name, string value)
        {
            lock (_lock)
            {
                _parameters[Limit(name)] = Limit(value);
            }
        }

        public void Sent(object? message)
        {
            lock (_lock)
            {
                _messages++;
                if (message is IMessage m)
                {
                    _bytes += m.CalculateSize();
                    DescribeResponse(m);
                }
            }
        }

        /// <summary>
        /// Takes what an aggregate answer says about itself: the cohort version of its AnalysisMetadata (unless
        /// the handler reported one) and its disclosure control — every SuppressionReason set in the answer,
        /// counted per reason and kind of cell, e.g. "SUPPRESSION_REASON_SMALL_CELL x4 (ExposureGroup)".
        /// </summary>
        private void DescribeResponse(IMessage response)
        {
            var suppressions = new SortedDictionary<string, int>(StringComparer.Ordinal);
            long? version = null;
            Walk(response, 0, suppressions, ref version);
            if (version is { } v && !_versionFromHandler)
            {
                _cohortVersion = v;
            }

            foreach (var (action, count) in suppressions)
            {
                var text = $"{action.Split('|')[0]} x{count} ({action.Split('|')[1]})";
                if (!_actions.Contains(text))
                {
                    _actions.Add(text);
                }
            }
        }

        private static void Walk(IMessage message, int depth, SortedDictionary<string, int> suppressions, ref long? version)
        {
            if (depth > 8)
            {
                return;
            }

            if (message.Descriptor.FullName == "homabone.v1.AnalysisMetadata" && message.Descriptor.FindFieldByName("cohort_version")?.Accessor.GetValue(message) is long cohortVersion && cohortVersion > 0)
            {
                version ??= cohortVersion;
                return;
            }

            foreach (var field in RelevantFields(message.Descriptor))
            {
                if (field.FieldType == FieldType.Message)
                {
                    var value = field.Accessor.GetValue(message);
                    if (field.IsRepeated && value is System.Collections.IEnumerable items)
                    {
                        foreach (var item in items)
                        {
                            if (item is IMessage child)
                            {
                                Walk(child, depth + 1, suppressions, ref version);
                            }
                        }
                    }
                    else if (!field.IsRepeated && value is IMessage child)
                    {
                        Walk(child, depth + 1, suppressions, ref version);
                    }
                }
                else if (field.FieldType == FieldType.Enum && !field.IsRepeated && field.EnumType.FullName == "homabone.v1.SuppressionReason")
                {
                    var reason = Convert.ToInt32(field.Accessor.GetValue(message), CultureInfo.InvariantCulture);
                    if (reason != 0)
                    {
                        var key = (field.EnumType.FindValueByNumber(reason)?.Name ?? reason.ToString(CultureInfo.InvariantCulture)) + "|" + message.Descriptor.Name;
                        suppressions[key] = suppressions.GetValueOrDefault(key) + 1;
                    }
                }
            }
        }

        /// <summary>
        /// The fields of <paramref name="descriptor"/> that can lead to a suppression reason or to the analysis
        /// metadata (computed once per message type): an answer's thousands of coefficients, which hold neither,
        /// are not walked.
        /// </summary>
        private static FieldDescriptor[] RelevantFields(MessageDescriptor descriptor) =>
            RelevantByType.GetOrAdd(descriptor, d => [.. d.Fields.InDeclarationOrder().Where(f => Leads(f, 0))]);

        private static bool Leads(FieldDescriptor field, int depth) => field.FieldType switch
        {
            FieldType.Enum => !field.IsRepeated && field.EnumType.FullName == "homabone.v1.SuppressionReason",
            FieldType.Message => depth < 8 && (field.MessageType.FullName == "homabone.v1.AnalysisMetadata"
                || field.MessageType.Fields.InDeclarationOrder().Any(f => Leads(f, depth + 1))),
            _ => false,
        };

        /// <summary>Takes the cohort and the non-health parameters from a request message.</summary>
        public void Describe(object? request)
        {
            if (request is not IMessage message)
            {
                return;
            }

            lock (_lock)
            {
                _requestMessages++;
                if (_requestMessages > 1)
                {
                    // Later messages of a stream: only counts (the first message names the cohort).
                    _entries += CountEntries(message);
                    _parameters["request_messages"] = _requestMessages.ToString(CultureInfo.InvariantCulture);
                    _parameters["entries"] = _entries.ToString(CultureInfo.InvariantCulture);
                    return;
                }

                _entries += CountEntries(message);
                foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
                {
                    DescribeField(message, field);
                }
            }
        }

        public AuditEntry ToEntry(StatusCode status)
        {
            lock (_lock)
            {
                return new AuditEntry(
                    0,
                    _time,
                    principal,
                    rpc,
                    _cohortId,
                    _cohortVersion,
                    new Dictionary<string, string>(_parameters, StringComparer.Ordinal),
                    [.. _actions],
                    status == StatusCode.OK || _messages > 0 ? _messages : 0,
                    _bytes,
                    Stopwatch.GetElapsedTime(_started),
                    (int)status);
            }
        }

        private static long CountEntries(IMessage message) =>
            message.Descriptor.FindFieldByName("entries") is { IsRepeated: true } entries && entries.Accessor.GetValue(message) is System.Collections.ICollection list ? list.Count : 0;

        private void DescribeField(IMessage message, FieldDescriptor field)
        {
            var value = field.Accessor.GetValue(message);
            switch (field.Name)
            {
                case "name" or "parent" when value is string resource:
                    DescribeResource(resource);
                    return;
                case "cohort_id" when value is string cohortId && cohortId.Length > 0:
                    _cohortId = Limit(cohortId);
                    if (field.ContainingType.Name.StartsWith("List", StringComparison.Ordinal))
                    {
                        _parameters["cohort_id"] = _cohortId;
                    }

                    return;
                case "cohort" when value is IMessage cohort && cohort.Descriptor.FindFieldByName("name") is { } nameField && nameField.Accessor.GetValue(cohort) is string cohortName:
                    DescribeResource(cohortName);
                    return;
                case "participant" when value is IMessage participant && participant.Descriptor.FindFieldByName("name") is { } participantName && participantName.Accessor.GetValue(participant) is string resourceName:
                    DescribeResource(resourceName);
                    return;
                case "update_mask" when value is Google.Protobuf.WellKnownTypes.FieldMask mask:
                    _parameters["update_mask"] = Limit(string.Join(",", mask.Paths));
                    return;
                case "models" or "outcomes" when value is System.Collections.IEnumerable labels and not string:
                    var joined = string.Join(",", labels.Cast<object>());
                    if (joined.Length > 0)
                    {
                        _parameters[field.Name] = Limit(joined);
                    }

                    return;
                case "custom_models" when value is System.Collections.IEnumerable models:
                    var modelLabels = models.OfType<IMessage>().Select(m => m.Descriptor.FindFieldByName("label")?.Accessor.GetValue(m) as string ?? string.Empty);
                    var text = string.Join(",", modelLabels);
                    if (text.Length > 0)
                    {
                        _parameters["custom_models"] = Limit(text);
                    }

                    return;
                case "entries":
                    _parameters["entries"] = _entries.ToString(CultureInfo.InvariantCulture);
                    return;
                case "principal" or "rpc" when value is string filter && filter.Length > 0:
                    _parameters[field.Name] = Limit(filter);
                    return;
                case "page_token" when value is string token && token.Length > 0:
                    _parameters["page_token"] = "set";
                    return;
                default:
                    break;
            }

            // Top-level integers, booleans and enums are sizes, versions and choices, never health values
            // (those live in nested messages and floating-point fields, which are never recorded).
            if (field.IsRepeated || field.IsMap)
            {
                return;
            }

            var recorded = field.FieldType switch
            {
                FieldType.Int32 or FieldType.Int64 or FieldType.UInt32 or FieldType.UInt64 or FieldType.SInt32 or FieldType.SInt64 => Convert.ToInt64(value, CultureInfo.InvariantCulture) is var n && n != 0 ? n.ToString(CultureInfo.InvariantCulture) : null,
                FieldType.Bool => value is true ? "true" : null,
                FieldType.Enum => Convert.ToInt32(value, CultureInfo.InvariantCulture) is var e && e != 0 ? field.EnumType.FindValueByNumber(e)?.Name ?? e.ToString(CultureInfo.InvariantCulture) : null,
                _ => null,
            };
            if (recorded is not null)
            {
                _parameters[field.Name] = recorded;
            }
        }

        private void DescribeResource(string resource)
        {
            if (ResourceNames.TryParseParticipant(resource, out var cohortId, out var participantId))
            {
                _cohortId = cohortId;
                _parameters["participant"] = pseudonymizer.Pseudonymize(ParticipantKey.For(cohortId, participantId));
            }
            else if (ResourceNames.TryParseCohort(resource, out var cohort))
            {
                _cohortId = cohort;
            }
        }

        private static string Limit(string value) => value.Length <= MaxParameterLength ? value : value[..MaxParameterLength];
    }

    private sealed class DescribingReader<T>(IAsyncStreamReader<T> inner, AuditScope scope) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken))
            {
                return false;
            }

            scope.Describe(inner.Current);
            return true;
        }
    }

    private sealed class CountingWriter<T>(IServerStreamWriter<T> inner, AuditScope scope) : IServerStreamWriter<T>
    {
        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(T message, CancellationToken cancellationToken)
        {
            await inner.WriteAsync(message, cancellationToken);
            scope.Sent(message);
        }
    }
}
