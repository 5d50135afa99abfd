using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace HomaBone.Hosting;

/// <summary>
/// The last line of defence for "no participant identifier in logs or traces": HomaBone's own code never
/// logs identifiers or health values, but the runtime (Orleans grain ids, request paths of JSON reads,
/// exception messages) may name a participant. Console logs go through a formatter and spans through a
/// processor that replace every participant identifier with its keyed pseudonym.
/// </summary>
public static class TelemetryHygiene
{
    /// <summary>Configuration key: write spans to the console too (tests and local debugging; no collector needed).</summary>
    public const string ConsoleTracesKey = "HomaBone:Telemetry:ConsoleTraces";

    /// <summary>True when spans are exported (an OTLP endpoint or console traces is configured); otherwise none are recorded.</summary>
    public static bool TracesExported(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            || string.Equals(configuration[ConsoleTracesKey], "true", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Registers the <see cref="Pseudonymizer"/>, the redacting console formatter and span processor.</summary>
    public static void AddHomaBoneTelemetryHygiene(this WebApplicationBuilder builder, IOpenTelemetryBuilder otel)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(otel);
        var pseudonymizer = Pseudonymizer.FromConfiguration(builder.Configuration, builder.Configuration.ReadHomaBoneOptions());
        builder.Services.AddSingleton(pseudonymizer);
        builder.Logging.AddConsoleFormatter<RedactingConsoleFormatter, ConsoleFormatterOptions>();
        builder.Logging.AddConsole(o => o.FormatterName = RedactingConsoleFormatter.FormatterName);
        if (!TracesExported(builder.Configuration))
        {
            return;
        }

        otel.WithTracing(tracing =>
        {
            tracing.AddProcessor(new RedactingActivityProcessor(pseudonymizer));
            if (string.Equals(builder.Configuration[ConsoleTracesKey], "true", StringComparison.OrdinalIgnoreCase))
            {
                tracing.AddConsoleExporter();
            }
        });
    }

    /// <summary>Pseudonymises participant identifiers in span names, tags and status descriptions.</summary>
    private sealed class RedactingActivityProcessor(Pseudonymizer pseudonymizer) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            data.DisplayName = pseudonymizer.Redact(data.DisplayName);
            List<KeyValuePair<string, string>>? changed = null;
            foreach (var tag in data.TagObjects)
            {
                if (tag.Value is string text && pseudonymizer.Redact(text) is var redacted && !string.Equals(redacted, text, StringComparison.Ordinal))
                {
                    (changed ??= []).Add(new(tag.Key, redacted));
                }
            }

            foreach (var (key, value) in changed ?? [])
            {
                data.SetTag(key, value);
            }

            if (data.StatusDescription is { } description)
            {
                data.SetStatus(data.Status, pseudonymizer.Redact(description));
            }
        }
    }

    /// <summary>The simple console format (level: category[event] message) with participant identifiers pseudonymised.</summary>
    private sealed class RedactingConsoleFormatter(Pseudonymizer pseudonymizer) : ConsoleFormatter(FormatterName)
    {
        public const string FormatterName = "homabone-redacting";

        public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
        {
            var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
            if (message is null && logEntry.Exception is null)
            {
                return;
            }

            textWriter.Write(logEntry.LogLevel switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                LogLevel.Critical => "crit",
                _ => "none",
            });
            textWriter.Write(": ");
            textWriter.Write(logEntry.Category);
            textWriter.Write('[');
            textWriter.Write(logEntry.EventId.Id);
            textWriter.WriteLine(']');
            if (message is not null)
            {
                textWriter.Write("      ");
                textWriter.WriteLine(pseudonymizer.Redact(message).Replace(Environment.NewLine, Environment.NewLine + "      ", StringComparison.Ordinal));
            }

            if (logEntry.Exception is not null)
            {
                textWriter.WriteLine(pseudonymizer.Redact(logEntry.Exception.ToString()));
            }
        }
    }
}
