import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { toolPath } from '../../scripts/lib/tools';
import { freePort, startChild, waitFor } from '../../scripts/lib/stack';

// Jaeger v2 (built by scripts/install-tools.sh from the Go module proxy): a real OTLP/HTTP receiver keeping traces in
// memory, and its query API to read them back. Every port is a free one: tests run two at a time in one network.

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  startTime: number;
  duration: number;
  processID: string;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

export async function startJaeger(dir: string) {
  const [otlp, query, queryGrpc] = [await freePort(), await freePort(), await freePort()];
  const config = path.join(dir, 'jaeger.yaml');
  writeFileSync(
    config,
    `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: { receivers: [otlp], processors: [], exporters: [jaeger_storage_exporter] }
  telemetry:
    logs: { level: warn }
    metrics: { level: none }
extensions:
  jaeger_storage: { backends: { mem: { memory: { max_traces: 10000 } } } }
  jaeger_query:
    storage: { traces: mem }
    enable_tracing: false
    http: { endpoint: "127.0.0.1:${query}" }
    grpc: { endpoint: "127.0.0.1:${queryGrpc}" }
receivers:
  otlp: { protocols: { http: { endpoint: "127.0.0.1:${otlp}" } } }
exporters:
  jaeger_storage_exporter: { trace_storage: mem }
`,
  );
  const child = startChild('jaeger', toolPath('jaeger'), ['--config', config], {
    output: path.join(dir, 'jaeger.log'),
  });
  const queryUrl = `http://127.0.0.1:${query}`;
  await waitFor('Jaeger', async () => {
    if (child.process.exitCode !== null) throw new Error(`jaeger exited (${child.process.exitCode})`);
    const res = await fetch(`${queryUrl}/api/services`);
    if (!res.ok) throw new Error(`query API ${res.status}`);
  });
  return {
    otlpEndpoint: `http://127.0.0.1:${otlp}`,
    /** One trace as Jaeger holds it now (undefined before any of its spans arrived). */
    async trace(traceId: string): Promise<JaegerTrace | undefined> {
      const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
      if (res.status === 404) return undefined;
      const body = (await res.json()) as { data?: JaegerTrace[] };
      return body.data?.[0];
    },
    stop: () => child.stop(),
  };
}
