// What a request cost the Temporal server: its frontend's own request counters (Prometheus), read before and after.
// The server counts every call it answered, whoever made it, so a test reads these around one request while nothing
// else reads (the worker polls, which the read operations below do not include).

/**
 * The server adds its requests to the counters it serves once a second (tally's reporting interval), so a count read
 * at once misses the calls of the last second: each read waits past one report.
 */
const REPORTED_WITHIN_MS = 1_500;
const reported = () => new Promise((resolve) => setTimeout(resolve, REPORTED_WITHIN_MS));

/**
 * The frontend's calls that read: visibility (list, count) and a workflow's own (describe, query, history). A client's
 * `result()` reads the closing event with a long poll, which the server counts as PollWorkflowExecutionHistory.
 */
export const READ_OPERATIONS = [
  'ListWorkflowExecutions',
  'CountWorkflowExecutions',
  'DescribeWorkflowExecution',
  'QueryWorkflow',
  'GetWorkflowExecutionHistory',
  'PollWorkflowExecutionHistory',
] as const;
export type ReadOperation = (typeof READ_OPERATIONS)[number];
export const VISIBILITY_OPERATIONS: readonly ReadOperation[] = ['ListWorkflowExecutions', 'CountWorkflowExecutions'];

/** The frontend's request counts by operation, now. */
export async function frontendCalls(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const calls: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('service_requests{') || !line.includes('service_name="frontend"')) continue;
    const operation = /operation="([^"]+)"/.exec(line)?.[1] ?? '?';
    calls[operation] = (calls[operation] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return calls;
}

/** The read calls `action` made the server answer, by operation, and the visibility calls among them. */
export async function readCallsOf<T>(
  metricsUrl: string,
  action: () => Promise<T>,
): Promise<{ result: T; calls: Record<ReadOperation, number>; visibility: number }> {
  await reported();
  const before = await frontendCalls(metricsUrl);
  const result = await action();
  await reported();
  const after = await frontendCalls(metricsUrl);
  const calls = Object.fromEntries(READ_OPERATIONS.map((op) => [op, (after[op] ?? 0) - (before[op] ?? 0)])) as Record<
    ReadOperation,
    number
  >;
  const visibility = VISIBILITY_OPERATIONS.reduce((sum, op) => sum + calls[op], 0);
  return { result, calls, visibility };
}
