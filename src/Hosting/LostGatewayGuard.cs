using Orleans;

namespace HomaBone.Hosting;

/// <summary>
/// A grain call given up because the connection to a silo gateway closed while it was in flight and it did not finish
/// within <see cref="MembershipSettings.LostGatewayGrace"/>: its answer is lost, and whether its work was done is
/// unknown — the same as a timeout, so it is one (a write carrying a request id is answered UNAVAILABLE, a read
/// UNAVAILABLE, any other write DEADLINE_EXCEEDED).
/// </summary>
public sealed class SiloGatewayLostException : TimeoutException
{
    /// <summary>Creates the exception with its standard message.</summary>
    public SiloGatewayLostException()
        : base("the connection to the silo gateway carrying this call was closed (the silo was declared dead) before it answered")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public SiloGatewayLostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public SiloGatewayLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Gives up grain calls stranded on a silo gateway that the cluster declared dead, instead of letting them wait for the
/// whole Orleans response timeout. A frozen silo (SIGSTOP, a VM pause, a stop-the-world stall) keeps its TCP
/// connections open, so the gateway's Orleans client keeps sending calls to it until the refreshed gateway list
/// (every <see cref="MembershipSettings.GatewayListRefreshPeriod"/>) no longer has it; the client then closes the
/// connection, but the calls already sent through it are not failed: each waits for its response timeout
/// (<see cref="MembershipSettings.ResponseTimeout"/>, 10 s), which put the recovery after a freeze at ~21–24 s.
/// Orleans reports the closed connection as a drop in the gateway count (<see cref="IClusterConnectionStatusObserver"/>);
/// on that signal every call then in flight gets <see cref="MembershipSettings.LostGatewayGrace"/> to finish — calls
/// through the surviving gateways do — and the rest fail with <see cref="SiloGatewayLostException"/>, so the caller's
/// retry goes through a live gateway at once. Only the gateway process (an Orleans client) gets the signal; co-hosted,
/// the guard never fires. No identifiers or values: it sees tasks, not requests.
/// </summary>
/// <param name="settings">The grace period.</param>
/// <param name="observesGateways">
/// True in a gateway process, where the Orleans client reports its gateway connections to this guard; otherwise (a
/// co-hosted silo) <see cref="Watch{T}(Task{T})"/> returns the call as it is.
/// </param>
public sealed class LostGatewayGuard(MembershipSettings settings, bool observesGateways = true) : IClusterConnectionStatusObserver, IDisposable
{
    private CancellationTokenSource _loss = new();
    private long _losses;

    /// <summary>How many times a gateway connection was lost (for tests and diagnostics).</summary>
    public long Losses => Interlocked.Read(ref _losses);

    /// <summary>
    /// <paramref name="call"/>, unless a gateway connection closes while it runs and it does not finish within the
    /// grace period after that: then a <see cref="SiloGatewayLostException"/> (the call itself is left to finish or
    /// time out unobserved).
    /// </summary>
    public Task<T> Watch<T>(Task<T> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return call.IsCompleted || !observesGateways ? call : WatchAsync(call, Volatile.Read(ref _loss).Token);
    }

    /// <summary>As <see cref="Watch{T}(Task{T})"/>, for a call without a result.</summary>
    public Task Watch(Task call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return call.IsCompleted || !observesGateways ? call : WatchAsync(call, Volatile.Read(ref _loss).Token);
    }

    /// <inheritdoc />
    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways < previousNumberOfGateways)
        {
            Signal();
        }
    }

    /// <inheritdoc />
    public void NotifyClusterConnectionLost() => Signal();

    /// <inheritdoc />
    public void Dispose() => Volatile.Read(ref _loss).Dispose();

    private void Signal()
    {
        Interlocked.Increment(ref _losses);
        // The old source is cancelled, not disposed: calls started before the loss still hold its token.
        Interlocked.Exchange(ref _loss, new CancellationTokenSource()).Cancel();
    }

    private async Task<T> WatchAsync<T>(Task<T> call, CancellationToken loss)
    {
        await WatchAsync((Task)call, loss).ConfigureAwait(false);
        return await call.ConfigureAwait(false);
    }

    private async Task WatchAsync(Task call, CancellationToken loss)
    {
        if (!loss.CanBeCanceled)
        {
            await call.ConfigureAwait(false);
            return;
        }

        try
        {
            await call.WaitAsync(loss).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (loss.IsCancellationRequested)
        {
            // The call may have finished meanwhile: then the wait below returns (or rethrows) its outcome at once.
        }

        try
        {
            await call.WaitAsync(settings.LostGatewayGrace, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!call.IsCompleted)
        {
            // Observe the abandoned call's eventual failure (its response timeout) so it is not reported as unobserved.
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new SiloGatewayLostException();
        }
    }
}
