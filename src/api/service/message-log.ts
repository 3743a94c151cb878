import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { EventTypeNameSchema } from '../../domain/event-types';
import { otherEndpointIds } from '../../domain/endpoints';
import { FIRST_ENDPOINT_ID, otherEndpoint } from '../../domain/ids';
import {
  DocumentStatusSchema,
  EndpointIdSchema,
  DocumentTypeSchema,
  IdSchema,
  type DocumentStatus,
  type DocumentType,
  type Environment,
} from '../../domain/schemas';
import { CreatedAtKey, DeliveryStatusKey, DocumentTypeKey, EventTypeKey } from '../../domain/search-attributes';
import { AppError } from '../errors';
import type { ServiceContext } from './context';

// The message log: a customer's documents, newest first, read from Temporal's visibility (the search attributes every
// document's workflow carries), for as long as the namespace keeps closed workflows. SQL visibility cannot order by
// anything but its own order (running first, then by close time), so a page is found by time: a window of CreatedAt
// holding at least one page and at most WINDOW_MAX documents is narrowed or widened by counts, listed whole, and
// sorted here. Every request is at most MAX_COUNTS counts and one listing of at most WINDOW_MAX rows.

const Timestamp = z.iso.datetime({ offset: true });

export const MessageLogQuerySchema = z
  .object({
    status: DocumentStatusSchema.optional(),
    type: DocumentTypeSchema.optional(),
    eventType: EventTypeNameSchema.optional(),
    endpointId: EndpointIdSchema.optional().meta({
      description: "One endpoint's deliveries (their status is that endpoint's); ep_default is the webhook",
    }),
    since: Timestamp.optional().meta({ description: 'Documents created at or after this time' }),
    until: Timestamp.optional().meta({ description: 'Documents created before this time' }),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(200).optional().meta({ description: "The last page's nextCursor" }),
  })
  .refine((q) => !q.since || !q.until || Date.parse(q.since) < Date.parse(q.until), {
    message: 'must be after since',
    path: ['until'],
  });
export type MessageLogQuery = z.infer<typeof MessageLogQuerySchema>;

export interface LoggedDocument {
  id: string;
  type: DocumentType;
  eventType?: string;
  status: DocumentStatus;
  createdAt: string;
  /** A document that went to other endpoints too: each delivery's status, the first endpoint's first. */
  endpoints?: { endpointId: string; status: DocumentStatus }[];
}

/** A row of visibility: one run of a delivery's workflow. */
type Run = LoggedDocument & { workflowId: string; startedAt?: number };

/** What the log reads from visibility: a count, and the rows of one window (at most `max`). */
export interface Visibility {
  count(query: string): Promise<number>;
  list(query: string, max: number): Promise<Run[]>;
}

/** The most rows a window holds before it is narrowed, and the most counts a page may take to find its window. */
export const WINDOW_MAX = 500;
const MAX_COUNTS = 48;
const FIRST_WIDTH_MS = 3_600_000;
const WIDEN = 8;

/**
 * Where the next page starts: at ms `b` and before, skipping the `n` documents at `b` already shown (those from id `i`
 * up); `w` is the width of the last window, a hint for the next.
 */
const CursorSchema = z.object({
  b: z.number().int(),
  i: z.string().max(400).optional(),
  n: z.number().int().min(0).default(0),
  w: z.number().int().min(1),
});
type Cursor = z.infer<typeof CursorSchema>;
const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
function decodeCursor(text: string): Cursor {
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    const message = "is not a cursor this API gave (pass the last page's nextCursor unchanged)";
    throw new AppError('validation_failed', `query.cursor: ${message}`, 400, [
      { path: 'query.cursor', message, code: 'custom' },
    ]);
  }
}

/** The query of one customer's documents with the filters asked for; every value is one the schemas let through. */
export function logQuery(environment: Environment, customerId: string, filters: MessageLogQuery): string {
  IdSchema.parse(customerId);
  return [
    `WorkflowType = 'deliverDocument'`,
    // A run continued as new is the same document: only its latest run is listed.
    `ExecutionStatus != 'ContinuedAsNew'`,
    `Environment = '${environment}'`,
    `CustomerId = '${customerId}'`,
    // Without an endpoint: each document once (its own workflow; deliveries to other endpoints carry EndpointId).
    ...endpointFilter(filters.endpointId),
    ...(filters.status ? [`DeliveryStatus = '${filters.status}'`] : []),
    ...(filters.type ? [`DocumentType = '${filters.type}'`] : []),
    ...(filters.eventType ? [`EventType = '${EventTypeNameSchema.parse(filters.eventType)}'`] : []),
  ].join(' AND ');
}

function endpointFilter(endpointId: string | undefined): string[] {
  const other = otherEndpoint(endpointId);
  if (other) return [`EndpointId = '${EndpointIdSchema.parse(other)}'`];
  // The first endpoint's deliveries: the documents' own workflows, but those it took none of.
  return endpointId ? [`EndpointId IS NULL`, `DeliveryStatus != 'routed'`] : [`EndpointId IS NULL`];
}

const between = (query: string, from: number, to: number) =>
  `${query} AND CreatedAt >= '${new Date(from).toISOString()}' AND CreatedAt <= '${new Date(to).toISOString()}'`;

/** One page of the log, newest first, and the cursor of the next when there is one. */
export async function pageOfLog(
  visibility: Visibility,
  query: string,
  page: Pick<MessageLogQuery, 'since' | 'until' | 'limit' | 'cursor'>,
  now: number,
): Promise<{ data: Run[]; nextCursor?: string }> {
  const cursor = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const lower = page.since ? Date.parse(page.since) : 0;
  // A minute ahead of this clock: a document an API with a clock a little ahead just stamped is on the first page.
  const upper = cursor?.b ?? (page.until ? Date.parse(page.until) - 1 : now + 60_000);
  if (upper < lower) return { data: [] };
  const span = upper - lower + 1;
  const fromOf = (width: number) => Math.max(lower, upper - width + 1);
  // The widest window known to hold at most a page, and the narrowest known to hold more than WINDOW_MAX: the window
  // sought lies between them, and bisection finds it.
  let small = 0;
  let large = Infinity;
  let width = Math.min(cursor?.w ?? FIRST_WIDTH_MS, span);
  for (let counts = 0; counts < MAX_COUNTS; counts++) {
    // The documents of the window not shown yet.
    const count = (await visibility.count(between(query, fromOf(width), upper))) - (cursor?.n ?? 0);
    if (count > WINDOW_MAX && width > 1) large = width;
    else if (count <= page.limit && fromOf(width) > lower) small = width;
    else break;
    const next =
      large === Infinity
        ? Math.min(width * WIDEN, span)
        : small === 0
          ? Math.ceil(width / 2)
          : Math.floor((small + large) / 2);
    // A millisecond holds more than WINDOW_MAX - page documents: the page is the narrower window's, short but in order.
    if (next === small) {
      width = small;
      break;
    }
    width = next;
  }
  const from = fromOf(width);
  const rows = latestRuns(await visibility.list(between(query, from, upper), WINDOW_MAX))
    .filter((row) => !cursor?.i || Date.parse(row.createdAt) < cursor.b || row.workflowId < cursor.i)
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.workflowId < b.workflowId ? 1 : -1));
  const data = rows.slice(0, page.limit);
  const last = data.at(-1);
  const more = rows.length > page.limit || from > lower;
  if (!more) return { data };
  let next: Cursor = { b: from - 1, n: 0, w: width };
  if (last) {
    const b = Date.parse(last.createdAt);
    const shownAtB = data.filter((row) => Date.parse(row.createdAt) === b).length + (cursor?.b === b ? cursor.n : 0);
    next = { b, i: last.workflowId, n: shownAtB, w: width };
  }
  return { data, nextCursor: encodeCursor(next) };
}

/** Each workflow's latest run: a resend or a restore starts a new run of a delivery whose earlier run ended. */
function latestRuns(runs: Run[]): Run[] {
  const latest = new Map<string, Run>();
  for (const run of runs) {
    const seen = latest.get(run.workflowId);
    if (!seen || (run.startedAt ?? 0) > (seen.startedAt ?? 0)) latest.set(run.workflowId, run);
  }
  return [...latest.values()];
}

/** What a query may name: every workflow id here is made of IdSchema ids, an environment and an endpoint id. */
const SAFE_WORKFLOW_ID = /^[A-Za-z0-9._:~-]+$/;
/** Workflow ids per listing of current runs, and the rows one reads at most (a few runs each). */
const IDS_PER_LISTING = 200;
const RUNS_PER_LISTING = 1_000;

/**
 * A page's documents as they are now: each row's status is its workflow's latest run's (a resend or restore may have
 * started one the page's listing did not match), a row whose latest run no longer matches `status` is dropped, and a
 * document that went to other endpoints too lists each delivery's status. The deliveries are named, not searched:
 * each row's delivery to each of `otherEndpoints` (the customer's, from its record) and, under a `status` filter, the
 * row's own workflow, read in listings of 200 ids: none for a customer with one endpoint and no filter, at most 10 for
 * a page of 100 with 20.
 */
export async function currentStatuses(
  visibility: Visibility,
  page: Run[],
  otherEndpoints: string[],
  status?: DocumentStatus,
): Promise<LoggedDocument[]> {
  // Without a status filter the page's listing held every run of its rows (a document's runs share its CreatedAt):
  // only with one may a newer run have been left out, and only then are the rows themselves read again.
  const ids = page.flatMap((row) => [
    ...(status ? [row.workflowId] : []),
    ...otherEndpoints.map((ep) => `${row.workflowId}:${ep}`),
  ]);
  const named = ids.filter((id) => SAFE_WORKFLOW_ID.test(id)).map((id) => `'${id}'`);
  const runs: Run[] = [];
  for (let at = 0; at < named.length; at += IDS_PER_LISTING) {
    const query =
      `WorkflowType = 'deliverDocument' AND ExecutionStatus != 'ContinuedAsNew' AND ` +
      `WorkflowId IN (${named.slice(at, at + IDS_PER_LISTING).join(', ')})`;
    runs.push(...(await visibility.list(query, RUNS_PER_LISTING)));
  }
  const now = new Map(latestRuns(runs).map((run) => [run.workflowId, run]));
  return page.flatMap(({ workflowId, startedAt: _startedAt, ...row }) => {
    const current = now.get(workflowId)?.status ?? row.status;
    if (status && current !== status) return [];
    const others = otherEndpoints.flatMap((endpointId) => {
      const run = now.get(`${workflowId}:${endpointId}`);
      return run ? [{ endpointId, status: run.status }] : [];
    });
    if (others.length === 0) return [{ ...row, status: current }];
    const first = current === 'routed' ? [] : [{ endpointId: FIRST_ENDPOINT_ID, status: current }];
    return [{ ...row, status: current, endpoints: [...first, ...others] }];
  });
}

/** The document id of a delivery workflow id (`delivery:{env}:{customer}:{id}[:{endpointId}]`): ids contain no ':'. */
const documentIdOf = (workflowId: string) => workflowId.split(':')[3];

/** Temporal's visibility, as the log reads it. */
function temporalVisibility(client: Client): Visibility {
  return {
    async count(query) {
      return (await client.workflow.count(query)).count;
    },
    async list(query, max) {
      const rows: Run[] = [];
      for await (const workflow of client.workflow.list({ query, pageSize: Math.min(max, 1000) })) {
        const attributes = workflow.typedSearchAttributes;
        const createdAt = attributes.get(CreatedAtKey);
        if (!createdAt) continue;
        rows.push({
          workflowId: workflow.workflowId,
          startedAt: workflow.startTime.getTime(),
          id: documentIdOf(workflow.workflowId),
          type: (attributes.get(DocumentTypeKey) ?? 'event') as DocumentType,
          eventType: attributes.get(EventTypeKey),
          status: (attributes.get(DeliveryStatusKey) ?? 'sending') as DocumentStatus,
          createdAt: createdAt.toISOString(),
        });
        if (rows.length >= max) break;
      }
      return rows;
    },
  };
}

/** The statuses a delivery to an endpoint ends or waits in (`routed` is a document's, never an endpoint's). */
const DELIVERY_STATUSES = ['sending', 'retrying', 'delivered', 'pending', 'acknowledged', 'expired'] as const;
const STATS_WINDOWS = { '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
type EndpointStats = Record<
  keyof typeof STATS_WINDOWS,
  Record<(typeof DELIVERY_STATUSES)[number], number> & { successRate: number | null }
>;

/** The message log of one customer in one environment, and its endpoints' statistics. */
export function createMessageLogService({ client, endpoints }: Pick<ServiceContext, 'client' | 'endpoints'>) {
  const visibility = temporalVisibility(client);
  return {
    /**
     * An endpoint's deliveries of documents submitted in the last 24 hours and 7 days, by status, counted by
     * visibility (12 counts, whatever the volume): like Svix's endpoint stats. The success rate is delivered over
     * those that are over (delivered, pending, acknowledged, expired); null when none is.
     */
    async endpointStats(environment: Environment, customerId: string, endpointId: string, now = Date.now()) {
      const query = logQuery(environment, customerId, { endpointId, limit: 1 });
      const stats = {} as EndpointStats;
      for (const [window, ms] of Object.entries(STATS_WINDOWS) as [keyof typeof STATS_WINDOWS, number][]) {
        const since = `CreatedAt >= '${new Date(now - ms).toISOString()}'`;
        const counts = await Promise.all(
          DELIVERY_STATUSES.map((status) => visibility.count(`${query} AND ${since} AND DeliveryStatus = '${status}'`)),
        );
        const byStatus = Object.fromEntries(DELIVERY_STATUSES.map((status, i) => [status, counts[i]])) as Record<
          (typeof DELIVERY_STATUSES)[number],
          number
        >;
        const over = byStatus.delivered + byStatus.pending + byStatus.acknowledged + byStatus.expired;
        stats[window] = { ...byStatus, successRate: over === 0 ? null : byStatus.delivered / over };
      }
      return stats;
    },

    /** Newest first; the operator's view says 404 for a customer that does not exist. */
    async listDocuments(environment: Environment, customerId: string, query: MessageLogQuery, checkCustomer = false) {
      const record = await endpoints.get(environment, customerId);
      if (checkCustomer && !record) throw AppError.notFound(`customer ${customerId}`);
      const page = await pageOfLog(visibility, logQuery(environment, customerId, query), query, Date.now());
      // One endpoint's deliveries are that endpoint's rows already; otherwise each row's deliveries to the others.
      const others = query.endpointId ? [] : otherEndpointIds(record);
      return { ...page, data: await currentStatuses(visibility, page.data, others, query.status) };
    },
  };
}
