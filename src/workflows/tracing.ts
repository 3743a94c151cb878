// Sets the globals OpenTelemetry needs in the workflow sandbox (performance, window): first.
import '@temporalio/interceptors-opentelemetry/lib/workflow/runtime';
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  extractContextFromHeaders,
  headersWithContext,
  WORKFLOW_ID_ATTR_KEY,
} from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { ContextManager } from '@temporalio/interceptors-opentelemetry/lib/workflow/context-manager';
import { SpanExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/span-exporter';
import {
  ContinueAsNew,
  getRandomStream,
  workflowInfo,
  type Headers,
  type WorkflowInterceptors,
} from '@temporalio/workflow';

// The workflow side of a document's trace, bundled only when the worker exports traces (src/lib/tracing.ts): a span
// per run (RunWorkflow:…), per activity scheduled (StartActivity:…, the parent of the activity's RunActivity), per
// child started and signal sent, and the span of a run continued as new, carried to the next by Temporal's headers.
// Spans leave the sandbox by the `exporter` sink, which is not called on replay: each is exported once.
//
// Not Temporal's own workflow interceptors (@temporalio/interceptors-opentelemetry), for two reasons, each one a
// nondeterminism error in a workflow that ran before tracing was turned on (test/workflows/replay.test.ts replays every
// recorded history with this module):
// - They yield (`await`) before scheduling an activity unless the history records an SDK flag that only their own
//   use records, and around Update handlers: the activity's command, or the Update's completion, then comes after
//   commands the workflow issued later in the same activation (a memo, a timer). Here every command is issued when the
//   workflow asks for it, and the caller gets the SDK's own promise back.
// - Span ids are drawn with Math.random(): in a workflow, its deterministic stream, the one that spaces retries and
//   names notification children. Here they come from a stream of their own.
// Signals received, Updates and queries are not traced: a signal or an Update is the API's own trace (its request and
// the client's span), not the document's, and a query runs live but never on replay.

const ids = () => getRandomStream('webhook-delivery/trace-ids');
let contextManager: ContextManager | undefined;
let cached: Tracer | undefined;

/** One tracer for the sandbox, as Temporal's interceptors keep theirs; its spans leave by the `exporter` sink. */
function tracer(): Tracer {
  if (cached) return cached;
  contextManager ??= new ContextManager();
  const provider = new BasicTracerProvider();
  provider.addSpanProcessor(new SimpleSpanProcessor(new SpanExporter()));
  provider.register({ contextManager });
  cached = provider.getTracer('webhook-delivery-workflow');
  return cached;
}

/** Ends `span` when `promise` settles, and hands back the same promise: the caller's timing is untouched. */
function endWith<T>(span: Span, promise: Promise<T>, acceptable?: (err: unknown) => boolean): Promise<T> {
  promise.then(
    () => span.end(),
    (err: unknown) => {
      if (!acceptable?.(err)) span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name });
      span.end();
    },
  );
  return promise;
}

export const interceptors = (): WorkflowInterceptors => {
  const stream = ids();
  const spans = stream.with(tracer);
  /** A span (its id from the trace stream) and the context that makes it the parent of what `run` starts. */
  const spanned = <T>(
    name: string,
    kind: SpanKind,
    parent: Context | undefined,
    run: (span: Span, headers: (h: Headers) => Headers) => Promise<T>,
    acceptable?: (err: unknown) => boolean,
  ): Promise<T> => {
    const base = parent ?? context.active();
    const span = stream.with(() =>
      spans.startSpan(name, { kind, attributes: { [WORKFLOW_ID_ATTR_KEY]: workflowInfo().workflowId } }, base),
    );
    const inSpan = trace.setSpan(base, span);
    return endWith(
      span,
      context.with(inSpan, () => run(span, headersWithContext)),
      acceptable,
    );
  };
  return {
    inbound: [
      {
        execute: (input, next) =>
          spanned(
            `RunWorkflow:${workflowInfo().workflowType}`,
            SpanKind.SERVER,
            extractContextFromHeaders(input.headers),
            () => next(input),
            (err) => err instanceof ContinueAsNew,
          ),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) =>
          spanned(`StartActivity:${input.activityType}`, SpanKind.CLIENT, undefined, (_s, headers) =>
            next({ ...input, headers: headers(input.headers) }),
          ),
        scheduleLocalActivity: (input, next) =>
          spanned(`StartActivity:${input.activityType}`, SpanKind.CLIENT, undefined, (_s, headers) =>
            next({ ...input, headers: headers(input.headers) }),
          ),
        // The span covers the child's start; the child's own run is its RunWorkflow span, a child of this one.
        startChildWorkflowExecution: (input, next) => {
          let started!: Promise<[Promise<string>, Promise<unknown>]>;
          void spanned(`StartChildWorkflow:${input.workflowType}`, SpanKind.CLIENT, undefined, (_s, headers) => {
            started = next({ ...input, headers: headers(input.headers) });
            return started.then(([start]) => start);
          });
          return started;
        },
        continueAsNew: (input, next) => {
          const span = stream.with(() => spans.startSpan(`ContinueAsNew:${input.options.workflowType}`));
          span.end();
          return context.with(trace.setSpan(context.active(), span), () =>
            next({ ...input, headers: headersWithContext(input.headers) }),
          );
        },
        signalWorkflow: (input, next) =>
          spanned(`SignalWorkflow:${input.signalName}`, SpanKind.CLIENT, undefined, (_s, headers) =>
            next({ ...input, headers: headers(input.headers) }),
          ),
      },
    ],
    internals: [
      {
        dispose: (input, next) => {
          contextManager?.disable();
          next(input);
        },
      },
    ],
  };
};
