using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace HomaBone.Hosting;

/// <summary>
/// Readiness follows the host's lifetime: not ready until the application (silo included) has started,
/// and not ready again from the moment shutdown begins, so load balancers drain the process first.
/// </summary>
public sealed class ReadinessState
{
    private int _state; // 0 starting, 1 ready, 2 stopping

    /// <summary>Creates the state and follows <paramref name="lifetime"/>.</summary>
    public ReadinessState(IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        lifetime.ApplicationStarted.Register(() => Interlocked.CompareExchange(ref _state, 1, 0));
        lifetime.ApplicationStopping.Register(() => Interlocked.Exchange(ref _state, 2));
    }

    /// <summary>True when started and not stopping.</summary>
    public bool IsReady => Volatile.Read(ref _state) == 1;

    /// <summary>True from the moment shutdown begins.</summary>
    public bool IsStopping => Volatile.Read(ref _state) == 2;

    /// <summary>True once start-up has completed (stays true while stopping).</summary>
    public bool HasStarted => Volatile.Read(ref _state) >= 1;
}

/// <summary>
/// The first step of a graceful shutdown (<see cref="HomaBoneOptions.ShutdownDrainDelay"/>): readiness is already
/// false and new calls are refused, but the endpoints stay up, so health checks and load balancers see NOT_SERVING
/// while in-flight calls go on. Then the host stops Kestrel (which waits for the in-flight calls) and the silo.
/// </summary>
internal sealed class ShutdownDrain(HomaBoneOptions options, ReadinessState readiness) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (options.ShutdownDrainDelay > TimeSpan.Zero && readiness.HasStarted)
        {
            try
            {
                await Task.Delay(options.ShutdownDrainDelay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Healthy when the process is ready to serve.</summary>
public sealed class ReadinessHealthCheck(ReadinessState state) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.IsReady ? HealthCheckResult.Healthy("ready") : HealthCheckResult.Unhealthy(state.HasStarted ? "shutting down" : "starting"));
}

/// <summary>Healthy once start-up has completed.</summary>
public sealed class StartupHealthCheck(ReadinessState state) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.HasStarted ? HealthCheckResult.Healthy("started") : HealthCheckResult.Unhealthy("starting"));
}
