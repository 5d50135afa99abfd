using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client.Configuration;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// The retry policy the service publishes (protos/homabone/v1/grpc_service_config.json, also served by the gateway at
/// /grpc-service-config.json), read into a <see cref="ServiceConfig"/> for <c>GrpcChannelOptions.ServiceConfig</c>:
/// the test clients retry exactly what an ordinary client configured from that file retries.
/// </summary>
public static class PublishedRetryPolicy
{
    public static string Path => System.IO.Path.Combine(ServiceProcess.RepositoryRoot, "protos", "homabone", "v1", "grpc_service_config.json");

    public static ServiceConfig Load() => Parse(File.ReadAllText(Path));

    /// <summary>Reads the gRPC service config JSON (methodConfig names and retryPolicy; other fields are ignored).</summary>
    public static ServiceConfig Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var config = new ServiceConfig();
        foreach (var method in document.RootElement.GetProperty("methodConfig").EnumerateArray())
        {
            var methodConfig = new MethodConfig();
            foreach (var name in method.GetProperty("name").EnumerateArray())
            {
                methodConfig.Names.Add(new MethodName
                {
                    Service = name.TryGetProperty("service", out var service) ? service.GetString() : null,
                    Method = name.TryGetProperty("method", out var m) ? m.GetString() : null,
                });
            }

            if (method.TryGetProperty("retryPolicy", out var retry))
            {
                var policy = new RetryPolicy
                {
                    MaxAttempts = retry.GetProperty("maxAttempts").GetInt32(),
                    InitialBackoff = Duration(retry.GetProperty("initialBackoff").GetString()),
                    MaxBackoff = Duration(retry.GetProperty("maxBackoff").GetString()),
                    BackoffMultiplier = retry.GetProperty("backoffMultiplier").GetDouble(),
                };
                foreach (var code in retry.GetProperty("retryableStatusCodes").EnumerateArray())
                {
                    policy.RetryableStatusCodes.Add(StatusCodeOf(code.GetString()!));
                }

                methodConfig.RetryPolicy = policy;
            }

            config.MethodConfigs.Add(methodConfig);
        }

        return config;
    }

    /// <summary>"UNAVAILABLE" → <see cref="StatusCode.Unavailable"/> (the service config's spelling).</summary>
    public static StatusCode StatusCodeOf(string name) =>
        Enum.Parse<StatusCode>(name.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true);

    private static TimeSpan? Duration(string? text) =>
        text is { Length: > 1 } && text.EndsWith('s')
            ? TimeSpan.FromSeconds(double.Parse(text[..^1], CultureInfo.InvariantCulture))
            : throw new FormatException($"not a protobuf JSON duration: {text}");
}
