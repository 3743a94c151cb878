import { readFileSync } from 'node:fs';
import type { Receiver } from '../test/helpers/receiver';

// What the bench's phases share: percentiles, process memory, load shapes, and the Temporal server's own counters.

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** CPU time (user + system) a process has used so far, in ms; 0 once it is gone. */
export function cpuMs(pid: number | undefined): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

export function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}

/** A burst: `work` for ids prefix0..prefix{count-1}, at most `width` at a time; returns each one's start time. */
export async function inParallel(prefix: string, count: number, width: number, work: (id: string) => Promise<void>) {
  const startedAt = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const id = `${prefix}${next++}`;
        startedAt.set(id, Date.now());
        await work(id);
      }
    }),
  );
  return startedAt;
}

/** Steady load: one `work` every 1/rate seconds whatever the answers (an open loop), `count` in all. */
export async function paced(prefix: string, count: number, perSecond: number, work: (id: string) => Promise<void>) {
  const startedAt = new Map<string, number>();
  const t0 = Date.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / perSecond;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const id = `${prefix}${i}`;
    startedAt.set(id, Date.now());
    running.push(work(id));
  }
  await Promise.all(running);
  return startedAt;
}

export const webhookIds = (receiver: Receiver) =>
  new Set(receiver.received.map((r) => String(r.headers['webhook-id'])));

export async function until(what: string, done: () => boolean | Promise<boolean>, deadlineMs: number) {
  const since = Date.now();
  while (!(await done())) {
    if (Date.now() - since > deadlineMs) throw new Error(`${what}: not done in ${deadlineMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now();
}

/** Submit -> received latency of each id the receiver saw first (a redelivery is not a second sample). */
export function endToEnd(receiver: Receiver, submittedAt: Map<string, number>): number[] {
  return [...firstArrivals(receiver, submittedAt).values()];
}

/** Each submitted document's submit -> first received, by id. */
export function firstArrivals(receiver: Receiver, submittedAt: Map<string, number>): Map<string, number> {
  const first = new Map<string, number>();
  for (const r of receiver.received) {
    const id = String(r.headers['webhook-id']);
    if (submittedAt.has(id) && !first.has(id)) first.set(id, r.at - submittedAt.get(id)!);
  }
  return first;
}

/** The server's counters: gRPC requests its frontend answered (client and worker round trips) and database operations. */
export async function serverCounters(metricsUrl: string) {
  const text = await (await fetch(metricsUrl)).text();
  const sum = (pattern: RegExp) =>
    text
      .split('\n')
      .filter((line) => pattern.test(line))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  const byOperation: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('persistence_requests{')) continue;
    const operation = /operation="([^"]+)"/.exec(line)?.[1] ?? '?';
    byOperation[operation] = (byOperation[operation] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return {
    frontendRequests: sum(/^service_requests\{.*service_name="frontend"/),
    persistenceRequests: sum(/^persistence_requests\{/),
    byOperation,
  };
}

/** Database operations per document between two readings, by operation, largest first (what to cut next). */
export function operationsPerDocument(
  before: Record<string, number>,
  after: Record<string, number>,
  documents: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after)
      .map((op) => [op, Number((((after[op] ?? 0) - (before[op] ?? 0)) / documents).toFixed(2))] as const)
      .filter(([, perDocument]) => perDocument >= 0.05)
      .sort((a, b) => b[1] - a[1]),
  );
}
