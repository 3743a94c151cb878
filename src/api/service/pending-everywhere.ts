import { z } from 'zod';
import { deletedEndpointIds, otherEndpointIds } from '../../domain/endpoints';
import { FIRST_ENDPOINT_ID, otherEndpoint, queueOf } from '../../domain/ids';
import type { DocumentType, EndpointState, Environment } from '../../domain/schemas';
import { AppError } from '../errors';
import type { ServiceContext } from './context';
import type { createDocumentService } from './documents';
import type { createPendingService } from './pending';

// The customer-wide pending routes (/v1/{env}/pending…) over every endpoint. A customer with one endpoint gets
// exactly what it always got (its first endpoint's prefix, the same cursors); one with several gets each endpoint's
// prefix merged in the order documents became pending, each entry saying whose it is, and acts on a document at
// every endpoint where it waits. A page reads one listing per endpoint (five with a type filter): at most 20 (100).
// Acting on a document reads what the document has, not what the customer has: an act per delivery of it (refused
// where it is not pending), its own state, the customer's record once, and one visibility listing for the deliveries
// resends started at endpoints it was never routed to (documents.ts resentAt).

/**
 * A bulk resend (`POST /pending/resend` with up to 1,000 ids) works through its ids in pages of this many, one page at a
 * time: a page's deliveries started by resends are found in one visibility listing (50 x 19 ids, within
 * IDS_PER_LISTING), so a request makes at most 20 listings, and its other calls are per id, bounded by the deliveries
 * each document has (at most MAX_ENDPOINTS).
 */
const EVERYWHERE_PAGE = 50;
/** Documents of a page worked on at once (each one's deliveries in turn): what one request has in flight at most. */
const EVERYWHERE_CONCURRENCY = 8;

/**
 * `work` on every item, at most EVERYWHERE_CONCURRENCY at a time, the answers in the items' order. After a failure no
 * item is started (those under way end on their own) and the failure is thrown.
 */
async function inTurns<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const answers: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  await Promise.all(
    Array.from({ length: Math.min(EVERYWHERE_CONCURRENCY, items.length) }, async () => {
      while (!failed && next < items.length) {
        const i = next++;
        try {
          answers[i] = await work(items[i]);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    }),
  );
  return answers;
}

/** Whether the customer has endpoints besides the first: live ones, or deleted ones whose documents may still wait. */
const hasOthers = (record?: EndpointState) =>
  otherEndpointIds(record).length > 0 || deletedEndpointIds(record).length > 0;

/** Several endpoints' positions, one key tail each: `m.` before base64url JSON (a one-endpoint cursor has no '.'). */
const MULTI = 'm.';
const PositionsSchema = z.record(z.string().max(64), z.string().max(200));
function decodePositions(cursor: string): Record<string, string> {
  try {
    return PositionsSchema.parse(JSON.parse(Buffer.from(cursor.slice(MULTI.length), 'base64url').toString()));
  } catch {
    throw new AppError('validation_failed', 'query.cursor: not a cursor this API returned', 400, [
      { path: 'query.cursor', message: 'not a cursor this API returned', code: 'custom' },
    ]);
  }
}

export function createPendingEverywhere(
  { endpoints, store, clock }: ServiceContext,
  pending: ReturnType<typeof createPendingService>,
  documents: ReturnType<typeof createDocumentService>,
) {
  /**
   * The customer's endpoints, the first first: their ids as the API names them; `withDeleted`, and those deleted whose
   * documents may still wait (nothing is sent to them, but their documents are listed, pulled and acknowledged here).
   */
  async function endpointIds(environment: Environment, customerId: string, withDeleted = false): Promise<string[]> {
    const customer = await endpoints.get(environment, customerId);
    return [FIRST_ENDPOINT_ID, ...otherEndpointIds(customer), ...(withDeleted ? deletedEndpointIds(customer) : [])];
  }

  const notPending = (err: unknown) => err instanceof AppError && err.httpStatus === 404;

  /** The customer's record, read once per request and only when asked for. */
  const recordOf = (environment: Environment, customerId: string) => {
    let record: Promise<EndpointState | undefined> | undefined;
    return () => (record ??= endpoints.get(environment, customerId));
  };

  /**
   * Does `act` for each id at the first endpoint as the route always did, then at every other delivery the document
   * has: those its routes started and those a resend started at an endpoint it was never routed to (found for all the
   * ids together in one visibility listing). An act where the delivery is not pending is refused by it (a 404, as the
   * first endpoint's), so nothing is read to find out first. Whether the document went anywhere else is in the first
   * endpoint's answer when `act` gives it (an acknowledgement), else in the customer's record: with one endpoint,
   * nothing more is read. Per id: the first act, its own state when the act did not answer it (2 reads), an act per
   * delivery the document has; per call, the customer's record and one listing. Answers, per id, whether it waited
   * anywhere.
   */
  async function actEverywhere(
    environment: Environment,
    customerId: string,
    ids: string[],
    act: (id: string, endpointId?: string) => Promise<{ endpoints?: string[] } | void>,
    record: () => Promise<EndpointState | undefined>,
  ): Promise<boolean[]> {
    const found = await inTurns(ids, async (id) => {
      let done = false;
      let answer: { endpoints?: string[] } | void = undefined;
      try {
        answer = await act(id);
        done = true;
      } catch (err) {
        if (!notPending(err)) throw err;
      }
      const nowhere = { id, done, routed: [] as string[], unrouted: [] as string[] };
      const spread = answer ? answer.endpoints !== undefined : hasOthers(await record());
      if (!spread) return nowhere;
      let own = answer;
      if (!own) {
        try {
          own = await documents.getDelivery(environment, customerId, id);
        } catch (err) {
          // No such document.
          if (!notPending(err)) throw err;
          return nowhere;
        }
      }
      const routed = own.endpoints ?? [];
      const unrouted = otherEndpointIds(await record()).filter((endpointId) => !routed.includes(endpointId));
      return { id, done, routed, unrouted };
    });
    const resent = await documents.resentAt(
      environment,
      customerId,
      found.filter((f) => f.unrouted.length > 0).map(({ id, unrouted }) => ({ id, endpointIds: unrouted })),
      true,
    );
    return inTurns(found, async ({ id, done, routed }) => {
      let acted = done;
      for (const endpointId of [...routed, ...(resent.get(id) ?? [])]) {
        try {
          await act(id, endpointId);
          acted = true;
        } catch (err) {
          if (!notPending(err)) throw err;
        }
      }
      return acted;
    });
  }

  /** One id, everywhere it waits; 404 when it waits nowhere. */
  async function oneEverywhere(
    environment: Environment,
    customerId: string,
    id: string,
    act: (id: string, endpointId?: string) => Promise<{ endpoints?: string[] } | void>,
  ): Promise<void> {
    const [waited] = await actEverywhere(environment, customerId, [id], act, recordOf(environment, customerId));
    if (!waited) throw AppError.notFound(`pending document ${id}`);
  }

  return {
    async listPendingEverywhere(
      environment: Environment,
      customerId: string,
      query: { type?: DocumentType; limit: number; cursor?: string },
    ) {
      const ids = await endpointIds(environment, customerId, true);
      if (ids.length === 1 && !query.cursor?.startsWith(MULTI))
        return pending.listPending(environment, customerId, query);
      const positions = query.cursor?.startsWith(MULTI) ? decodePositions(query.cursor) : {};
      const now = await clock();
      const pages = await Promise.all(
        ids.map((endpointId) =>
          store.page(environment, queueOf(customerId, endpointId), {
            after: positions[endpointId],
            limit: query.limit,
            type: query.type,
            now,
          }),
        ),
      );
      const merged = pages
        .flatMap((page, i) => page.items.map((item) => ({ ...item, endpointId: ids[i] })))
        .sort((a, b) => (a.tail < b.tail ? -1 : a.tail > b.tail ? 1 : a.endpointId < b.endpointId ? -1 : 1));
      const taken = merged.slice(0, query.limit);
      const next = { ...positions };
      for (const item of taken) next[item.endpointId] = item.tail;
      // A filtered page that read its share and found nothing of the type moves on past what it read.
      pages.forEach((page, i) => {
        if (page.items.length === 0 && page.more && page.next) next[ids[i]] = page.next;
      });
      const more = merged.length > query.limit || pages.some((page) => page.more);
      return {
        data: taken.map(({ id, type, createdAt, pendingSince, expiresAt, endpointId }) => ({
          id,
          type,
          createdAt,
          pendingSince,
          expiresAt,
          endpointId,
        })),
        nextCursor: more ? MULTI + Buffer.from(JSON.stringify(next)).toString('base64url') : null,
      };
    },

    /**
     * The document, from wherever it waits (the same bytes at every endpoint): the first endpoint's first, then each
     * other delivery the document has, in turn (two reads each).
     */
    async pullPendingEverywhere(environment: Environment, customerId: string, id: string) {
      const own = await documents.getDelivery(environment, customerId, id);
      try {
        return await pending.pulled(environment, id, own);
      } catch (err) {
        if (!notPending(err)) throw err;
      }
      const others = otherEndpointIds(await endpoints.get(environment, customerId));
      const { routed, resent } = await documents.deliveryEndpoints(environment, customerId, id, own, others, true);
      for (const endpointId of [...routed, ...resent]) {
        try {
          return await pending.pullPending(environment, customerId, id, endpointId);
        } catch (err) {
          if (!notPending(err)) throw err;
        }
      }
      throw AppError.notFound(`pending document ${id}`);
    },

    /** Acknowledged at every endpoint where it waits: the customer took it. */
    async acknowledgeEverywhere(environment: Environment, customerId: string, id: string): Promise<void> {
      await oneEverywhere(environment, customerId, id, (id, endpointId) =>
        pending.acknowledge(environment, customerId, id, endpointId),
      );
    },

    /** Resent to every endpoint where it waits. */
    async resendEverywhere(environment: Environment, customerId: string, id: string): Promise<void> {
      await oneEverywhere(environment, customerId, id, (id, endpointId) =>
        pending.resend(environment, customerId, id, endpointId),
      );
    },

    /** Several ids, each everywhere it waits; none: every endpoint resends all of its own. */
    async resendManyEverywhere(environment: Environment, customerId: string, ids?: string[]) {
      if (!ids) {
        let count = 0;
        for (const endpointId of await endpointIds(environment, customerId)) {
          count += (await pending.resendMany(environment, customerId, undefined, otherEndpoint(endpointId))).count;
        }
        return { count, skipped: [] };
      }
      // In pages of EVERYWHERE_PAGE ids, one after another: each page's documents EVERYWHERE_CONCURRENCY at a time, and
      // one visibility listing for where resends took them. A request of 1,000 ids: at most 20 listings.
      const record = recordOf(environment, customerId);
      const skipped: string[] = [];
      for (let start = 0; start < ids.length; start += EVERYWHERE_PAGE) {
        const page = ids.slice(start, start + EVERYWHERE_PAGE);
        const waited = await actEverywhere(
          environment,
          customerId,
          page,
          (id, endpointId) => pending.resend(environment, customerId, id, endpointId),
          record,
        );
        skipped.push(...page.filter((_id, i) => !waited[i]));
      }
      return { count: ids.length - skipped.length, skipped };
    },
  };
}
