import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/client';
import { MAX_ENDPOINTS, type EndpointRoute, type PatchEndpoint, type PutEndpoint } from '../../domain/endpoints';
import { newEndpointState } from '../../domain/endpoint-state';
import { endpointWorkflowId, FIRST_ENDPOINT_ID, otherEndpoint } from '../../domain/ids';
import type { EventType } from '../../domain/event-types';
import type {
  EndpointRouteState,
  EndpointState,
  Environment,
  RegisteredEndpoint,
  SubmitDocument,
} from '../../domain/schemas';
import { startDocumentWorkflow } from '../../lib/document-start';
import { START_ONCE } from './documents';
import {
  createEndpointUpdate,
  deleteEndpointUpdate,
  setEndpointRouteUpdate,
  TOO_MANY_ENDPOINTS,
  UNKNOWN_ENDPOINT,
} from '../../workflows/messages';
import { AppError } from '../errors';
import { rethrowTemporal } from '../temporal-errors';
import type { ServiceContext } from './context';
import type { createWebhookService } from './webhook';

/** One of a customer's endpoints as the API shows it: its entity's state, its route, its pending count. */
export interface EndpointView {
  id: string;
  state: EndpointState;
  route: EndpointRouteState;
  createdAt?: string;
  pendingCount: number;
}

/**
 * What a DELETE answers (as Stripe's `deleted: true`): how many documents wait in the deleted endpoint's bucket prefix,
 * pullable through the customer-wide pending routes until they expire, the last of them by `expiresBy`.
 */
export interface DeletedEndpointView {
  id: string;
  deleted: true;
  deletedAt: string;
  pendingCount: number;
  expiresBy: string | null;
}

/** What a route is stored as: no nulls (a null in a request clears the field). */
const routeOf = (route: EndpointRoute): EndpointRouteState => ({
  ...(route.description ? { description: route.description } : {}),
  ...(route.filterTypes ? { filterTypes: route.filterTypes } : {}),
  ...(route.kinds ? { kinds: route.kinds } : {}),
});
/** A PATCH changes the fields it names; null clears one. */
const patchedRoute = (route: EndpointRouteState, patch: EndpointRoute): EndpointRouteState =>
  routeOf({
    description: patch.description === undefined ? route.description : patch.description,
    filterTypes: patch.filterTypes === undefined ? route.filterTypes : patch.filterTypes,
    kinds: patch.kinds === undefined ? route.kinds : patch.kinds,
  });

const refusal = (id: string) => (failure: unknown) => {
  if (!(failure instanceof ApplicationFailure)) return undefined;
  if (failure.type === TOO_MANY_ENDPOINTS) return new AppError('limit_reached', failure.message, 422);
  if (failure.type === UNKNOWN_ENDPOINT) return AppError.notFound(`endpoint ${id}`);
  return undefined;
};

/**
 * A customer's endpoints in one environment: the first is the customer's entity (`/v1/{env}/webhook`), each other has
 * an entity of its own; the first's entity lists the others with their routes (so the limit holds under races).
 */
export function createEndpointService(
  { client, endpoints, counter, config, clock }: ServiceContext,
  webhook: ReturnType<typeof createWebhookService>,
) {
  const first = (environment: Environment, customerId: string) =>
    client.workflow.getHandle(endpointWorkflowId(environment, customerId));

  async function firstState(environment: Environment, customerId: string): Promise<EndpointState> {
    const state = await endpoints.get(environment, customerId);
    if (!state) throw AppError.notFound(`customer ${customerId}`);
    return state;
  }

  async function pendingOf(environment: Environment, customerId: string, endpointId?: string): Promise<number> {
    const { events, summaries } = await counter.count(environment, customerId, endpointId);
    return events + summaries;
  }

  /**
   * An endpoint whose entity is not there (its creation stopped half-way, before creation was one step) shows as not
   * configured.
   */
  const unconfigured = (
    { environment, customerId, customerName, preferences, updatedAt }: EndpointState,
    endpointId: string,
  ) => ({
    ...newEndpointState({ environment, customerId, customerName, endpointId, updatedAt }),
    preferences,
  });

  async function viewOf(customer: EndpointState, registered?: RegisteredEndpoint): Promise<EndpointView> {
    const { environment, customerId } = customer;
    if (!registered) {
      return {
        id: FIRST_ENDPOINT_ID,
        state: customer,
        route: customer.route ?? {},
        pendingCount: await pendingOf(environment, customerId),
      };
    }
    const [state, pendingCount] = await Promise.all([
      endpoints.get(environment, customerId, registered.id),
      pendingOf(environment, customerId, registered.id),
    ]);
    return {
      id: registered.id,
      state: state ?? unconfigured(customer, registered.id),
      route: registered.route,
      createdAt: registered.createdAt,
      pendingCount,
    };
  }

  function registeredOf(customer: EndpointState, endpointId: string): RegisteredEndpoint | undefined {
    if (!otherEndpoint(endpointId)) return undefined;
    const registered = customer.endpoints?.find((endpoint) => endpoint.id === endpointId);
    if (!registered) throw AppError.notFound(`endpoint ${endpointId}`);
    return registered;
  }

  async function setRoute(environment: Environment, customerId: string, endpointId: string, route: EndpointRouteState) {
    try {
      await first(environment, customerId).executeUpdate(setEndpointRouteUpdate, {
        args: [{ ...(otherEndpoint(endpointId) ? { id: endpointId } : {}), route }],
      });
    } catch (err) {
      rethrowTemporal(err, { refused: refusal(endpointId) });
    }
  }

  return {
    /**
     * A signed test event to one endpoint only (Svix's "send example"): a document `test_…` of the given event type
     * (its schema's first example as data, if it has one) or a plain event, delivered, retried and logged like any.
     */
    async sendTestEvent(
      environment: Environment,
      customerId: string,
      endpointId: string,
      eventType: EventType | undefined,
    ): Promise<{ id: string; endpointId: string; status: 'sending' }> {
      const customer = await firstState(environment, customerId);
      registeredOf(customer, endpointId);
      const examples = eventType?.schema?.examples;
      const data = Array.isArray(examples) && examples.length > 0 ? examples[0] : { test: true };
      const id = `test_${randomBytes(8).toString('hex')}`;
      const other = otherEndpoint(endpointId);
      await startDocumentWorkflow(
        { client, config },
        {
          customerId,
          id,
          type: eventType?.kind ?? 'event',
          ...(eventType ? { eventType: eventType.name } : {}),
          data: data as SubmitDocument['data'],
          environment,
          createdAt: new Date().toISOString(),
          ...(other ? { endpointId: other } : {}),
          single: true,
        },
        'sending',
        START_ONCE,
      );
      return { id, endpointId, status: 'sending' };
    },

    /** The first endpoint, then the others in the order they were made: at most MAX_ENDPOINTS reads and listings. */
    async listEndpoints(environment: Environment, customerId: string): Promise<EndpointView[]> {
      const customer = await firstState(environment, customerId);
      const views = await Promise.all([
        viewOf(customer),
        ...(customer.endpoints ?? []).map((other) => viewOf(customer, other)),
      ]);
      // One deleted while the list was read.
      return views.filter((view) => view.state.status !== 'deleted');
    },

    async getEndpoint(environment: Environment, customerId: string, endpointId: string): Promise<EndpointView> {
      const customer = await firstState(environment, customerId);
      return viewOf(customer, registeredOf(customer, endpointId));
    },

    /**
     * A new endpoint in one step: the first endpoint's entity lists it (where the limit is kept, 422 past it) and starts
     * its entity configured, in one workflow task; a refusal changes nothing. Answered with its secret, shown only here
     * and when rotated.
     */
    async createEndpoint(environment: Environment, customerId: string, body: PutEndpoint): Promise<EndpointView> {
      await firstState(environment, customerId);
      const id = `ep_${randomBytes(12).toString('hex')}`;
      const registered: RegisteredEndpoint = { id, createdAt: new Date().toISOString(), route: routeOf(body) };
      const { description: _description, filterTypes: _filterTypes, kinds: _kinds, ...configured } = body;
      const configuration = webhook.configurationOf(configured);
      let state: EndpointState;
      try {
        state = await first(environment, customerId).executeUpdate(createEndpointUpdate, {
          args: [{ endpoint: registered, max: MAX_ENDPOINTS, configuration }],
        });
      } catch (err) {
        // Past the limit (422), or a configuration the entity's validator refused (400 naming the field).
        rethrowTemporal(err, {
          refused: (failure) => refusal(id)(failure) ?? webhook.invalidField(failure),
        });
      }
      const view = { id, route: registered.route, createdAt: registered.createdAt, pendingCount: 0 };
      return { ...view, state: webhook.withOpenSecret(state) };
    },

    /** The whole configuration and route again; the first endpoint's is the webhook's. */
    async putEndpoint(
      environment: Environment,
      customerId: string,
      endpointId: string,
      body: PutEndpoint,
    ): Promise<EndpointView> {
      const customer = await firstState(environment, customerId);
      const registered = registeredOf(customer, endpointId);
      await setRoute(environment, customerId, endpointId, routeOf(body));
      const other = registered && { endpointId, customerName: customer.customerName };
      const state = await webhook.configureWebhook(environment, customerId, body, other);
      const updated = await firstState(environment, customerId);
      return { ...(await viewOf(updated, registeredOf(updated, endpointId))), state };
    },

    /** On or off (a reactivation replays what it missed), the headers named, and the route's fields named. */
    async patchEndpoint(
      environment: Environment,
      customerId: string,
      endpointId: string,
      patch: PatchEndpoint,
    ): Promise<EndpointView> {
      const customer = await firstState(environment, customerId);
      const registered = registeredOf(customer, endpointId);
      const { active, headers, ...route } = patch;
      if (Object.values(route).some((value) => value !== undefined)) {
        const current = registered ? registered.route : (customer.route ?? {});
        await setRoute(environment, customerId, endpointId, patchedRoute(current, route));
      }
      if (active !== undefined || headers !== undefined) {
        await webhook.patchWebhook(environment, customerId, { active, headers }, otherEndpoint(endpointId));
      }
      const updated = await firstState(environment, customerId);
      return viewOf(updated, registeredOf(updated, endpointId));
    },

    /**
     * Deleted in one step: the first endpoint's entity takes it out of the routes and answers once its entity says
     * `deleted`, so nothing is sent to it after this answer. What waits in its bucket prefix stays pullable through the
     * customer-wide pending routes until it expires; its entity ends then. The first endpoint is the customer's
     * record: 409.
     */
    async deleteEndpoint(
      environment: Environment,
      customerId: string,
      endpointId: string,
    ): Promise<DeletedEndpointView> {
      if (!otherEndpoint(endpointId)) {
        throw new AppError('conflict', 'the first endpoint is the webhook: turn it off (PATCH active:false)', 409);
      }
      let deletedAt: string;
      try {
        ({ deletedAt } = await first(environment, customerId).executeUpdate(deleteEndpointUpdate, {
          args: [{ id: endpointId }],
        }));
      } catch (err) {
        rethrowTemporal(err, { notFound: `customer ${customerId}`, refused: refusal(endpointId) });
      }
      const { events, summaries, oldest, source } = await counter.count(environment, customerId, endpointId);
      // Keys sort by when documents became pending, and so by expiry: the last listed expires last. Past one listing
      // (counted by visibility), the retention from now bounds it.
      const last = source === 'listing' ? oldest.at(-1)?.expiresAt : undefined;
      const bound = new Date((await clock()) + config.retentionMs[environment]).toISOString();
      const pendingCount = events + summaries;
      return {
        id: endpointId,
        deleted: true,
        deletedAt,
        pendingCount,
        expiresBy: pendingCount === 0 ? null : (last ?? bound),
      };
    },
  };
}

/**
 * The support desk's view: one environment's endpoints in a status across customers (suspended, by default), a page
 * at a time from visibility (the entities' EndpointStatus), each with its state and pending count: per page, one
 * visibility listing and at most `limit` reads and bucket listings.
 */
const CURSOR_PREFIX = 'vis.';

export function createEndpointDirectory({ client, endpoints, counter }: ServiceContext) {
  return {
    async endpointsByStatus(
      environment: Environment,
      { status, limit, cursor }: { status: EndpointState['status']; limit: number; cursor?: string },
    ) {
      const query = [
        `WorkflowType = 'endpointEntity'`,
        `ExecutionStatus = 'Running'`,
        `Environment = '${environment}'`,
        `EndpointStatus = '${status}'`,
      ].join(' AND ');
      const notOurs = () => {
        const message = "is not a cursor this API gave (pass the last page's nextCursor unchanged)";
        return new AppError('validation_failed', `query.cursor: ${message}`, 400, [
          { path: 'query.cursor', message, code: 'custom' },
        ]);
      };
      // Temporal's page token, behind a prefix of ours: what lacks it was never given out.
      if (cursor && !cursor.startsWith(CURSOR_PREFIX)) throw notOurs();
      let page;
      try {
        page = await client.workflowService.listWorkflowExecutions({
          namespace: client.options.namespace,
          query,
          pageSize: limit,
          nextPageToken: cursor ? Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url') : undefined,
        });
      } catch (err) {
        // A token Temporal cannot read (it answers INVALID_ARGUMENT, or UNKNOWN on SQL visibility): a cursor altered.
        const code = (err as { code?: number }).code;
        if (cursor && (code === 2 || code === 3)) throw notOurs();
        rethrowTemporal(err, {});
      }
      const rows = await Promise.all(
        (page.executions ?? []).map(async (execution) => {
          // endpoint:{env}:{customer}[:{endpointId}]: ids contain no ':'.
          const [, , customerId, other] = execution.execution!.workflowId!.split(':');
          const [state, counts] = await Promise.all([
            endpoints.get(environment, customerId, other),
            counter.count(environment, customerId, other),
          ]);
          return {
            customerId,
            endpointId: other ?? FIRST_ENDPOINT_ID,
            state,
            pendingCount: counts.events + counts.summaries,
          };
        }),
      );
      const token = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
      return {
        // One deleted since visibility listed it is in no list.
        data: rows.flatMap(({ state, ...row }) => (state && state.status !== 'deleted' ? [{ ...row, state }] : [])),
        nextCursor: token ? CURSOR_PREFIX + Buffer.from(token).toString('base64url') : undefined,
      };
    },
  };
}
