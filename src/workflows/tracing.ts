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

interface SpanEnd<T> {
  /** What the span lasts until, from the command's promise. */
  until?: (result: Promise<T>) => Promise<unknown>;
  /** An error that is no failure (a run continued as new). */
  acceptable?: (err: unknown) => boolean;
}

/** Ends `span` when `promise` settles; the caller keeps the command's own promise, its timing untouched. */
function endWith(span: Span, promise: Promise<unknown>, acceptable?: (err: unknown) => boolean): void {
  promise.then(
    () => span.end(),
    (err: unknown) => {
      if (!acceptable?.(err)) span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name });
      span.end();
    },
  );
}

export const interceptors = (): WorkflowInterceptors => {
  const stream = getRandomStream('webhook-delivery/trace-ids');
  const spans = stream.with(tracer);
  /**
   * Runs `run` in a span (its id from the trace stream) that is the parent of what `run` starts, and hands back run's
   * own promise; the span ends when `until` (by default that promise) settles.
   */
  const spanned = <T>(
    name: string,
    kind: SpanKind,
    parent: Context | undefined,
    run: () => Promise<T>,
    { until = (p: Promise<T>): Promise<unknown> => p, acceptable }: SpanEnd<T> = {},
  ): Promise<T> => {
    const base = parent ?? context.active();
    const span = stream.with(() =>
      spans.startSpan(name, { kind, attributes: { [WORKFLOW_ID_ATTR_KEY]: workflowInfo().workflowId } }, base),
    );
    const result = context.with(trace.setSpan(base, span), run);
    endWith(span, until(result), acceptable);
    return result;
  };
  /** A command to another execution, in a CLIENT span whose context its headers carry. */
  const sent = <I extends { headers: Headers }, T>(
    name: string,
    input: I,
    next: (input: I) => Promise<T>,
    end?: SpanEnd<T>,
  ) =>
    spanned(
      name,
      SpanKind.CLIENT,
      undefined,
      () => next({ ...input, headers: headersWithContext(input.headers) }),
      end,
    );
  return {
    inbound: [
      {
        execute: (input, next) =>
          spanned(
            `RunWorkflow:${workflowInfo().workflowType}`,
            SpanKind.SERVER,
            extractContextFromHeaders(input.headers),
            () => next(input),
            { acceptable: (err) => err instanceof ContinueAsNew },
          ),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => sent(`StartActivity:${input.activityType}`, input, next),
        scheduleLocalActivity: (input, next) => sent(`StartActivity:${input.activityType}`, input, next),
        // The span covers the child's start; the child's own run is its RunWorkflow span, a child of this one.
        startChildWorkflowExecution: (input, next) =>
          sent(`StartChildWorkflow:${input.workflowType}`, input, next, { until: (p) => p.then(([start]) => start) }),
        continueAsNew: (input, next) => {
          const span = stream.with(() => spans.startSpan(`ContinueAsNew:${input.options.workflowType}`));
          span.end();
          return context.with(trace.setSpan(context.active(), span), () =>
            next({ ...input, headers: headersWithContext(input.headers) }),
          );
        },
        signalWorkflow: (input, next) => sent(`SignalWorkflow:${input.signalName}`, input, next),
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
