import { z } from 'zod';
import { deletedEndpointIds, otherEndpointIds } from '../../domain/endpoints';
import { FIRST_ENDPOINT_ID, otherEndpoint, queueOf } from '../../domain/ids';
import type { DocumentType, Environment } from '../../domain/schemas';
import { AppError } from '../errors';
import type { ServiceContext } from './context';
import type { createDocumentService } from './documents';
import type { createPendingService } from './pending';

// The customer-wide pending routes (/v1/{env}/pending…) over every endpoint. A customer with one endpoint gets
// exactly what it always got (its first endpoint's prefix, the same cursors); one with several gets each endpoint's
// prefix merged in the order documents became pending, each entry saying whose it is, and acts on a document at
// every endpoint where it waits. A page reads one listing per endpoint (five with a type filter): at most 20 (100).

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

  /** The other endpoints whose delivery of the document is pending (404 when none and `orNone` is false). */
  async function waitingAt(environment: Environment, customerId: string, id: string, orNone: boolean) {
    const document = await documents.getDocument(environment, customerId, id);
    const at = (document.deliveries ?? []).filter((d) => d.status === 'pending').map((d) => d.endpointId);
    if (at.length === 0 && !orNone) throw AppError.notFound(`pending document ${id}`);
    return at;
  }

  /**
   * Does `act` at the first endpoint as the route always did, then at each other endpoint where the document waits;
   * 404 when it waits nowhere. Whether it went anywhere else is in the first endpoint's answer when `act` gives it (an
   * acknowledgement), else in the customer's list of endpoints: one endpoint, nothing more is read.
   */
  async function atEveryEndpoint(
    environment: Environment,
    customerId: string,
    id: string,
    act: (endpointId?: string) => Promise<{ endpoints?: string[] } | void>,
  ): Promise<void> {
    let done = false;
    let answer: { endpoints?: string[] } | void = undefined;
    try {
      answer = await act(undefined);
      done = true;
    } catch (err) {
      if (!notPending(err)) throw err;
    }
    const spread = answer
      ? answer.endpoints !== undefined
      : (await endpointIds(environment, customerId, true)).length > 1;
    if (done && !spread) return;
    if (!done && !spread) throw AppError.notFound(`pending document ${id}`);
    for (const endpointId of await waitingAt(environment, customerId, id, done)) await act(endpointId);
  }

  /** Resent to every endpoint where it waits. */
  async function resendEverywhere(environment: Environment, customerId: string, id: string): Promise<void> {
    await atEveryEndpoint(environment, customerId, id, (endpointId) =>
      pending.resend(environment, customerId, id, endpointId),
    );
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

    /** The document, from wherever it waits (the same bytes at every endpoint): the first endpoint's first. */
    async pullPendingEverywhere(environment: Environment, customerId: string, id: string) {
      try {
        return await pending.pullPending(environment, customerId, id);
      } catch (err) {
        if (!notPending(err)) throw err;
        const [other] = await waitingAt(environment, customerId, id, false);
        return pending.pullPending(environment, customerId, id, other);
      }
    },

    /** Acknowledged at every endpoint where it waits: the customer took it. */
    async acknowledgeEverywhere(environment: Environment, customerId: string, id: string): Promise<void> {
      await atEveryEndpoint(environment, customerId, id, (endpointId) =>
        pending.acknowledge(environment, customerId, id, endpointId),
      );
    },

    resendEverywhere,

    /** Several ids, each everywhere it waits; none: every endpoint resends all of its own. */
    async resendManyEverywhere(environment: Environment, customerId: string, ids?: string[]) {
      if (!ids) {
        let count = 0;
        for (const endpointId of await endpointIds(environment, customerId)) {
          count += (await pending.resendMany(environment, customerId, undefined, otherEndpoint(endpointId))).count;
        }
        return { count, skipped: [] };
      }
      const skipped: string[] = [];
      for (const id of ids) {
        try {
          await resendEverywhere(environment, customerId, id);
        } catch (err) {
          if (!(err instanceof AppError) || err.httpStatus !== 404) throw err;
          skipped.push(id);
        }
      }
      return { count: ids.length - skipped.length, skipped };
    },
  };
}
