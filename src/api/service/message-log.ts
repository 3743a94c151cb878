import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { EndpointIdSchema, MAX_ENDPOINTS } from '../../domain/endpoints';
import { EventTypeNameSchema } from '../../domain/event-types';
import { deliveryWorkflowId, FIRST_ENDPOINT_ID, otherEndpoint } from '../../domain/ids';
import {
  DocumentStatusSchema,
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

/** What the log reads from visibility: a count, and the rows of one window (at most `max`). */
export interface Visibility {
  count(query: string): Promise<number>;
  list(query: string, max: number): Promise<(LoggedDocument & { workflowId: string })[]>;
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
): Promise<{ data: LoggedDocument[]; nextCursor?: string }> {
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
  const rows = (await visibility.list(between(query, from, upper), WINDOW_MAX))
    .filter((row) => !cursor?.i || Date.parse(row.createdAt) < cursor.b || row.workflowId < cursor.i)
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.workflowId < b.workflowId ? 1 : -1));
  const data = rows.slice(0, page.limit);
  const last = data.at(-1);
  const more = rows.length > page.limit || from > lower;
  if (!more) return { data: data.map(logged) };
  let next: Cursor = { b: from - 1, n: 0, w: width };
  if (last) {
    const b = Date.parse(last.createdAt);
    const shownAtB = data.filter((row) => Date.parse(row.createdAt) === b).length + (cursor?.b === b ? cursor.n : 0);
    next = { b, i: last.workflowId, n: shownAtB, w: width };
  }
  return { data: data.map(logged), nextCursor: encodeCursor(next) };
}

const logged = ({ workflowId: _workflowId, ...document }: LoggedDocument & { workflowId: string }): LoggedDocument =>
  document;

/**
 * The page's documents with each delivery's status, for those that went to other endpoints: one listing of the
 * deliveries the page's documents started (their children, at most MAX_ENDPOINTS - 1 each, so at most 1,900 rows for
 * a page of 100); a customer with one endpoint has none and its page is unchanged.
 */
export async function withDeliveries(
  visibility: Visibility,
  environment: Environment,
  customerId: string,
  page: LoggedDocument[],
): Promise<LoggedDocument[]> {
  const parents = page
    .filter((doc) => IdSchema.safeParse(doc.id).success)
    .map((doc) => `'${deliveryWorkflowId(environment, customerId, doc.id)}'`);
  if (parents.length === 0) return page;
  const query =
    `WorkflowType = 'deliverDocument' AND ExecutionStatus != 'ContinuedAsNew' AND ` +
    `ParentWorkflowId IN (${parents.join(', ')})`;
  const children = await visibility.list(query, page.length * (MAX_ENDPOINTS - 1));
  const byDocument = new Map<string, { endpointId: string; status: DocumentStatus }[]>();
  for (const child of children) {
    const endpointId = child.workflowId.split(':')[4];
    if (!endpointId) continue;
    byDocument.set(child.id, [...(byDocument.get(child.id) ?? []), { endpointId, status: child.status }]);
  }
  return page.map((doc) => {
    const others = byDocument.get(doc.id);
    if (!others) return doc;
    others.sort((a, b) => (a.endpointId < b.endpointId ? -1 : 1));
    const first = doc.status === 'routed' ? [] : [{ endpointId: FIRST_ENDPOINT_ID, status: doc.status }];
    return { ...doc, endpoints: [...first, ...others] };
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
      const rows: (LoggedDocument & { workflowId: string })[] = [];
      for await (const workflow of client.workflow.list({ query, pageSize: Math.min(max, 1000) })) {
        const attributes = workflow.typedSearchAttributes;
        const createdAt = attributes.get(CreatedAtKey);
        if (!createdAt) continue;
        rows.push({
          workflowId: workflow.workflowId,
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
      if (checkCustomer && !(await endpoints.get(environment, customerId))) {
        throw AppError.notFound(`customer ${customerId}`);
      }
      const page = await pageOfLog(visibility, logQuery(environment, customerId, query), query, Date.now());
      // One endpoint's deliveries already carry that endpoint's status.
      if (query.endpointId) return page;
      return { ...page, data: await withDeliveries(visibility, environment, customerId, page.data) };
    },
  };
}
