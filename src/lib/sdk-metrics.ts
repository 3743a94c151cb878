import { createServer } from 'node:net';
import { Runtime } from '@temporalio/worker';

/** A port nobody listens on now, on loopback (the exporter binds it a moment later). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The Temporal SDK's own worker metrics (task slots, poll and schedule-to-start latencies, sticky cache, activity and
 * workflow outcomes) come from its Rust core, which exports them to Prometheus itself. It listens on loopback only;
 * the process's GET /metrics appends its text to our own. Call before any connection or worker is made.
 */
export async function installSdkMetrics(): Promise<() => Promise<string>> {
  const port = await freeLoopbackPort();
  // Named by Prometheus conventions (counters end in _total, durations in seconds with the unit in the name), as
  // promtool and our own metrics expect; the SDK's defaults predate them.
  const prometheus = {
    bindAddress: `127.0.0.1:${port}`,
    countersTotalSuffix: true,
    unitSuffix: true,
    useSecondsForDurations: true,
  };
  Runtime.install({ telemetryOptions: { metrics: { prometheus } } });
  return async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return res.text();
  };
}
