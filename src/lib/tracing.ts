import type { Resource } from '@opentelemetry/resources';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { SpanProcessor, Tracer } from '@opentelemetry/sdk-trace-node';
import type { Config } from '../config';

// One trace per document (docs/operations.md, "Traces"): the API's request span, the Temporal client's start, the
// document's workflow, each attempt's activity and the POST to the receiver, linked by the context Temporal carries in
// its headers (@temporalio/interceptors-opentelemetry). Exported by OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set;
// otherwise nothing here is loaded: no SDK module, no interceptor, no span, not even a no-op one.
//
// The OpenTelemetry JS 1.x line: Temporal's interceptors (1.24) hand over spans in its shape, and 2.x and later need
// Node 22. Span ids drawn inside workflows come from a random stream of their own (src/workflows/tracing.ts).

export interface Tracing {
  tracer: Tracer;
  /** For the worker's span sink: workflow spans are built in the worker's process and go out with the others. */
  resource: Resource;
  spanProcessor: SpanProcessor;
  /** Sends what is buffered; before the process exits. */
  shutdown(): Promise<void>;
}

/** The process's tracing, or undefined when no OTLP endpoint is configured. */
export function installTracing(
  config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>,
  serviceName: string,
): Tracing | undefined {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  // Required here, not imported at the top: a process without an endpoint never loads them.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeTracerProvider, BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { Resource } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME ?? serviceName });
  const url = `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  // Batches in memory (at most 2,048 spans, the SDK's default; more are dropped, never blocking a delivery).
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // AsyncLocalStorage context and W3C trace context: a caller's `traceparent` is the parent of the API's span.
  provider.register();
  return {
    tracer: provider.getTracer('webhook-delivery'),
    resource,
    spanProcessor,
    shutdown: () => provider.shutdown(),
  };
}

/* eslint-disable @typescript-eslint/no-require-imports */
const temporalOtel = () =>
  require('@temporalio/interceptors-opentelemetry') as typeof import('@temporalio/interceptors-opentelemetry');
/* eslint-enable @typescript-eslint/no-require-imports */

/** A Temporal client's interceptors: its starts, signals and Updates carry the caller's context. */
export function clientInterceptors(tracing: Tracing | undefined): ClientInterceptors | undefined {
  if (!tracing) return undefined;
  return { workflow: [new (temporalOtel().OpenTelemetryWorkflowClientInterceptor)()] };
}

/** A worker's: the workflow interceptors bundled in, a span per activity run, and the sink workflow spans leave by. */
export function workerTracing(tracing: Tracing | undefined): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  if (!tracing) return { sinks: {} };
  const otel = temporalOtel();
  return {
    interceptors: {
      workflowModules: [require.resolve('../workflows/tracing')],
      activity: [
        (ctx) => ({
          inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: otel.makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
