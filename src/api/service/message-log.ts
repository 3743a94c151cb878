import type { Client } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
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
// anything but its own order (running first, then by close time): a page is read from the tops of two listings of a
// window of CreatedAt (pageOfLog says why that is enough) and sorted here. What a request costs is named below: a page
// at most 2 × MAX_ROUNDS listings (two, page after page) and its rows' deliveries to the other endpoints one listing
// (more only when its span of CreatedAt holds more than a listing: then one per IDS_PER_LISTING); the stats 12 counts
// per endpoint, at most once per STATS_FRESH_MS in each API process.

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

/** A row of visibility: one run of a delivery's workflow, with when it started and, once closed, when it closed. */
type Run = LoggedDocument & { workflowId: string; startedAt?: number; closedAt?: number };

/** What the log reads from visibility: a count, and the first rows of a listing in visibility's own order. */
export interface Visibility {
  count(query: string): Promise<number>;
  /**
   * One call: up to `max` rows in the only order SQL visibility lists in (running runs first, the latest started
   * first; then closed ones, the latest closed first), and whether more follow.
   */
  list(query: string, max: number): Promise<{ rows: Run[]; more: boolean }>;
}

/**
 * Rows one listing of a page reads: a few pages' worth (200 for a page of 50), since the frontend reads and encodes, and
 * the API decodes, every row it returns (about 0.5 KB each; 1,000 made 30 readers wait 8 s). Fewer would leave too
 * little past the clocks' margin at a busy customer's rate.
 */
const rowsPerListing = (limit: number) => Math.min(ROWS_PER_LISTING, Math.max(200, 4 * limit));
/** The frontend's largest page. */
const ROWS_PER_LISTING = 1_000;
/** The rounds of two listings a page may take. */
export const MAX_ROUNDS = 3;
/**
 * How far the API's clock, which stamps CreatedAt, may run ahead of Temporal's, which stamps start and close times.
 * NTP keeps them within milliseconds; a clock further ahead than this could hide a document from a page.
 */
export const CLOCK_MARGIN_MS = 5_000;
const RUNNING = `ExecutionStatus = 'Running'`;
const CLOSED = `ExecutionStatus != 'Running'`;

/** The latest time JavaScript can write. */
const LAST_DATE = 8.64e15;
/**
 * Where the next page starts: at ms `b` and before, skipping the documents at `b` from workflow id `i` up (shown
 * already); `w`, the width of a window expected to hold a page. (`n`, a count earlier versions kept, is ignored.)
 */
const CursorSchema = z.object({
  // Within the dates JavaScript can write (a forged cursor past them would fail the query's toISOString).
  b: z.number().int().min(0).max(LAST_DATE),
  i: z.string().max(400).optional(),
  n: z.number().int().min(0).optional(),
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

/** The clauses of every query of one customer's runs of deliveries; the customer id is one the schemas let through. */
function customerDeliveries(environment: Environment, customerId: string): string[] {
  IdSchema.parse(customerId);
  return [
    `WorkflowType = 'deliverDocument'`,
    // A run continued as new is the same document: only its latest run is listed.
    `ExecutionStatus != 'ContinuedAsNew'`,
    `Environment = '${environment}'`,
    `CustomerId = '${customerId}'`,
  ];
}

/** The query of one customer's documents with the filters asked for; every value is one the schemas let through. */
export function logQuery(environment: Environment, customerId: string, filters: MessageLogQuery): string {
  return [
    ...customerDeliveries(environment, customerId),
    // Without an endpoint: each document once (its own workflow; deliveries to other endpoints carry EndpointId).
    ...endpointFilter(filters.endpointId),
    ...(filters.status ? [`DeliveryStatus = '${filters.status}'`] : []),
    ...(filters.type ? [`DocumentType = '${filters.type}'`] : []),
    ...(filters.eventType ? [`EventType = '${EventTypeNameSchema.parse(filters.eventType)}'`] : []),
  ].join(' AND ');
}

/** The query of one customer's deliveries to endpoints other than its first (each carries its document's CreatedAt). */
export function deliveriesQuery(environment: Environment, customerId: string): string {
  return [...customerDeliveries(environment, customerId), `EndpointId IS NOT NULL`].join(' AND ');
}

function endpointFilter(endpointId: string | undefined): string[] {
  const other = otherEndpoint(endpointId);
  if (other) return [`EndpointId = '${EndpointIdSchema.parse(other)}'`];
  // The first endpoint's deliveries: the documents' own workflows, but those it took none of.
  return endpointId ? [`EndpointId IS NULL`, `DeliveryStatus != 'routed'`] : [`EndpointId IS NULL`];
}

/**
 * The query of runs created from ms `from` to ms `to`, both included: up to `to`'s last microsecond, since the dev
 * server's SQLite visibility finds a time whose milliseconds end in 0 a little after itself (`CreatedAt <=
 * '…51.910Z'` misses one created at …51.910, and a page would lose it). PostgreSQL keeps microseconds: exact too.
 */
const between = (query: string, from: number, to: number) =>
  `${query} AND CreatedAt >= '${new Date(from).toISOString()}' ` +
  `AND CreatedAt <= '${new Date(to).toISOString().replace(/Z$/, '999Z')}'`;

/**
 * One page of the log, newest first, and the cursor of the next when there is one. Visibility lists running runs by
 * start and closed ones by close, never by CreatedAt; but a run starts and closes no earlier than its document was
 * created. So the two listings of a window (running, closed), read from their tops, hold every document of the window
 * created after the later of their last rows' times: those are the page, sorted here. A window whose listings end
 * holds all of its documents; one with too few known narrows (its rows are mostly older ones still open or closed
 * late), one with too few in all widens. A page is at most MAX_ROUNDS rounds of two listings, and one round when the
 * cursor's width fits, as it does page after page; a page cut short by the rounds says so by a cursor, never by
 * leaving a document out.
 */
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
  const shownBefore = (row: Run) =>
    cursor?.i !== undefined && Date.parse(row.createdAt) === cursor.b && row.workflowId >= cursor.i;
  // Every document created after `top` (and at or before `upper`) is in `found`.
  let top = upper;
  // The first page reads from the top of everything; the next ones from a window the width of a page or two.
  let width = Math.max(1, cursor?.w ?? upper - lower + 1);
  const found: Run[] = [];
  for (let round = 0; round < MAX_ROUNDS && top >= lower && found.length <= page.limit; round++) {
    const from = Math.max(lower, top - width + 1);
    const window = between(query, from, top);
    const [running, closed] = await Promise.all([
      visibility.list(`${window} AND ${RUNNING}`, rowsPerListing(page.limit)),
      visibility.list(`${window} AND ${CLOSED}`, rowsPerListing(page.limit)),
    ]);
    // A run a listing has not reached yet started (or closed) no later than its last row: its document was created
    // no later either, give or take the clocks' margin. A listing that ended hides nothing.
    const hiddenUpTo = (listing: { rows: Run[]; more: boolean }, time: (row: Run) => number | undefined) =>
      listing.more ? (time(listing.rows.at(-1)!) ?? top) + CLOCK_MARGIN_MS : from - 1;
    let known = Math.min(
      top,
      Math.max(
        from - 1,
        hiddenUpTo(running, (row) => row.startedAt),
        hiddenUpTo(closed, (row) => row.closedAt),
      ),
    );
    // One millisecond holding more than a listing's rows: what was read of it is taken (the rest of it is skipped).
    if (known === top && from === top) known = from - 1;
    const rows = latestRuns([...running.rows, ...closed.rows]);
    found.push(...rows.filter((row) => Date.parse(row.createdAt) > known && !shownBefore(row)));
    const need = page.limit + 1 - found.length;
    if (known > from - 1) {
      // Too many rows to know them all: the window narrows to where the newest of those read were created (as many
      // as the page still needs), and at least by half.
      // (Rows a page before showed already are no part of this page.)
      const older = rows
        .filter((row) => !shownBefore(row))
        .map((row) => Date.parse(row.createdAt))
        .filter((at) => at <= known);
      const nth = older.sort((a, b) => b - a)[Math.min(Math.max(need, 1), older.length) - 1] ?? from;
      width = Math.max(1, Math.min(known - nth + 1, Math.floor((known - from + 1) / 2)));
    } else {
      // All of the window is known, and too few: the next is wide enough for the rest of the page at the rate this
      // one held, or, when it held none, the rest of the log is read from its top.
      width =
        rows.length === 0 ? known - lower + 1 : widthAt(top - from + 1, rows.length, rowsWanted(need, page.limit));
    }
    top = known;
  }
  found.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.workflowId < b.workflowId ? 1 : -1));
  const data = found.slice(0, page.limit);
  if (found.length <= page.limit && top < lower) return { data };
  const last = data.at(-1);
  const next: Cursor =
    last && data.length === page.limit
      ? {
          b: Date.parse(last.createdAt),
          i: last.workflowId,
          w: widthAt(Date.parse(found[0].createdAt) - top, found.length, rowsWanted(page.limit + 1, page.limit)),
        }
      : { b: top, w: width };
  return { data, nextCursor: encodeCursor(next) };
}

/** Rows a window should hold for `need` more documents: twice as many (rates are uneven), within half a listing. */
const rowsWanted = (need: number, limit: number) => Math.max(need, Math.min(2 * need, rowsPerListing(limit) / 2));

/** A window as wide as `rows` rows take at the rate of `held` rows created over `span` ms. */
const widthAt = (span: number, held: number, rows: number) => Math.max(1, Math.ceil((span * rows) / held));

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
/** Workflow ids named in one listing of current runs (a page of 50 at 20 endpoints is one listing). */
const IDS_PER_LISTING = 1_000;

/**
 * A page's documents as they are now: each row's status is its workflow's latest run's (a resend or restore may have
 * started one the page's listing did not match), a row whose latest run no longer matches `status` is dropped, and a
 * document that went to other endpoints too lists each delivery's status. Without a filter on status, and given the
 * customer's `deliveries` query, one listing of the page's span of CreatedAt finds them; otherwise (or when that span
 * holds more than a listing) they are named: each row's delivery to each of `otherEndpoints` (the customer's, from its
 * record) and, under a `status` filter, the row's own workflow, in listings of IDS_PER_LISTING ids: none for a
 * customer with one endpoint and no filter, two for a page of 100 at 20 endpoints. A listing whose runs overflow its
 * rows (deliveries resent many times) is halved.
 */
export async function currentStatuses(
  visibility: Visibility,
  page: Run[],
  otherEndpoints: string[],
  status?: DocumentStatus,
  deliveries?: string,
): Promise<LoggedDocument[]> {
  // Without a status filter the page's listing held every run of its rows (a document's runs share its CreatedAt):
  // only with one may a newer run have been left out, and only then are the rows themselves read again.
  const ids = page.flatMap((row) => [
    ...(status ? [row.workflowId] : []),
    ...otherEndpoints.map((ep) => `${row.workflowId}:${ep}`),
  ]);
  const runs: Run[] = [];
  if (!status && deliveries && ids.length > 0) {
    // The deliveries carry their document's CreatedAt: one listing of the page's span of it names them all, in a
    // query of a few hundred bytes (the server parses each id of a list, and 950 of them cost it more than the rows).
    const times = page.map((row) => Date.parse(row.createdAt));
    const listing = await visibility.list(
      between(deliveries, Math.min(...times), Math.max(...times)),
      ROWS_PER_LISTING,
    );
    // A span holding more (the page is a filter's, spread among other documents): by name, below.
    if (!listing.more) return withDeliveries(page, otherEndpoints, listing.rows, status);
  }
  const named = ids.filter((id) => SAFE_WORKFLOW_ID.test(id)).map((id) => `'${id}'`);
  const read = async (chunk: string[]): Promise<void> => {
    const query =
      `WorkflowType = 'deliverDocument' AND ExecutionStatus != 'ContinuedAsNew' AND ` +
      `WorkflowId IN (${chunk.join(', ')})`;
    const listing = await visibility.list(query, ROWS_PER_LISTING);
    if (!listing.more || chunk.length === 1) {
      runs.push(...listing.rows);
      return;
    }
    const half = Math.ceil(chunk.length / 2);
    await read(chunk.slice(0, half));
    await read(chunk.slice(half));
  };
  for (let at = 0; at < named.length; at += IDS_PER_LISTING) await read(named.slice(at, at + IDS_PER_LISTING));
  return withDeliveries(page, otherEndpoints, runs, status);
}

/** The page's rows with the latest of the runs read: their own (when filtered by status) and their deliveries. */
function withDeliveries(page: Run[], otherEndpoints: string[], runs: Run[], status?: DocumentStatus): LoggedDocument[] {
  const now = new Map(latestRuns(runs).map((run) => [run.workflowId, run]));
  return page.flatMap(({ workflowId, startedAt: _startedAt, closedAt: _closedAt, ...row }) => {
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
      // One call, whose page token says whether more follow (the SDK's iterator would read on to find out).
      const { namespace } = client.options;
      const response = await client.workflowService.listWorkflowExecutions({ namespace, query, pageSize: max });
      const rows: Run[] = [];
      for (const raw of response.executions) {
        const workflow = await executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, namespace);
        const attributes = workflow.typedSearchAttributes;
        const createdAt = attributes.get(CreatedAtKey);
        rows.push({
          workflowId: workflow.workflowId,
          startedAt: workflow.startTime.getTime(),
          closedAt: workflow.closeTime?.getTime(),
          id: documentIdOf(workflow.workflowId),
          type: (attributes.get(DocumentTypeKey) ?? 'event') as DocumentType,
          eventType: attributes.get(EventTypeKey),
          status: (attributes.get(DeliveryStatusKey) ?? 'sending') as DocumentStatus,
          // Every delivery is started with it; a row without would be no delivery of this service's.
          createdAt: (createdAt ?? workflow.startTime).toISOString(),
        });
      }
      return { rows, more: (response.nextPageToken?.length ?? 0) > 0 };
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

/** How long an endpoint's counted stats answer again, and how many endpoints' are kept. */
const STATS_FRESH_MS = 5_000;
const STATS_CACHED_MAX = 10_000;

/** The message log of one customer in one environment, and its endpoints' statistics. */
export function createMessageLogService({ client, endpoints }: Pick<ServiceContext, 'client' | 'endpoints'>) {
  const visibility = temporalVisibility(client);

  /** The 12 counts of an endpoint's stats: each status in each window. */
  async function countStats(environment: Environment, customerId: string, endpointId: string, now: number) {
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
  }

  const recentStats = new Map<string, { at: number; stats: Promise<EndpointStats> }>();
  return {
    /**
     * An endpoint's deliveries of documents submitted in the last 24 hours and 7 days, by status, counted by
     * visibility (12 counts, whatever the volume): like Svix's endpoint stats. The success rate is delivered over
     * those that are over (delivered, pending, acknowledged, expired); null when none is. Counted at most once per
     * STATS_FRESH_MS per endpoint in each API process, however many readers ask (a portal reloads them after every
     * action): visibility's budget is the namespace's, shared by every customer.
     */
    endpointStats(environment: Environment, customerId: string, endpointId: string, now = Date.now()) {
      const key = `${environment}/${customerId}/${endpointId}`;
      const recent = recentStats.get(key);
      if (recent && now - recent.at < STATS_FRESH_MS) return recent.stats;
      if (recentStats.size >= STATS_CACHED_MAX) recentStats.clear();
      const stats = countStats(environment, customerId, endpointId, now);
      recentStats.set(key, { at: now, stats });
      // A failed count is not kept: the next reader asks again.
      stats.catch(() => recentStats.get(key)?.stats === stats && recentStats.delete(key));
      return stats;
    },

    /** Newest first; the operator's view says 404 for a customer that does not exist. */
    async listDocuments(environment: Environment, customerId: string, query: MessageLogQuery, checkCustomer = false) {
      const record = await endpoints.get(environment, customerId);
      if (checkCustomer && !record) throw AppError.notFound(`customer ${customerId}`);
      const page = await pageOfLog(visibility, logQuery(environment, customerId, query), query, Date.now());
      // One endpoint's deliveries are that endpoint's rows already; otherwise each row's deliveries to the others.
      const others = query.endpointId ? [] : otherEndpointIds(record);
      const deliveries = deliveriesQuery(environment, customerId);
      return { ...page, data: await currentStatuses(visibility, page.data, others, query.status, deliveries) };
    },
  };
}
