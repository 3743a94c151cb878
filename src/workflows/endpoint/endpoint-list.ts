import { ApplicationFailure, ParentClosePolicy, proxyActivities, setHandler, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../../activities';
import { newEndpointState } from '../../domain/endpoint-state';
import { endpointWorkflowId } from '../../domain/ids';
import type { EndpointState } from '../../domain/schemas';
import { endpointSearchAttributes } from '../../domain/search-attributes';
import {
  addEndpointUpdate,
  createEndpointUpdate,
  deleteEndpointUpdate,
  endpointSettledUpdate,
  removeEndpointUpdate,
  setEndpointRouteUpdate,
  TOO_MANY_ENDPOINTS,
  UNKNOWN_ENDPOINT,
  type ConfigureEndpointInput,
} from '../messages';
import { UNTIL_IT_SUCCEEDS } from '../retry';
import type { EndpointEntity } from './entity';
import { applyConfiguration, validateConfiguration } from './validate';

// A Update of the API's, awaited by the customer: a minute is plenty for one Update on another entity.
const { tellEndpointDeleted } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: UNTIL_IT_SUCCEEDS,
});

/**
 * Deleted endpoints listed at most (as MAX_ENDPOINTS): past it the oldest is forgotten. Its entity still ends on its
 * own and its documents still expire; the customer-wide pending list no longer reads its prefix.
 */
const DELETED_ENDPOINTS_LISTED = 20;

/**
 * The first endpoint's entity: the customer's other endpoints and every route, and the endpoints deleted whose
 * documents are not settled yet (Updates, refused unrecorded).
 */
export function registerEndpointList(entity: EndpointEntity): void {
  const { state } = entity;
  const first = () => {
    if (state.endpointId) throw ApplicationFailure.nonRetryable('not a first endpoint', UNKNOWN_ENDPOINT);
  };
  const known = (id: string) => {
    if (!state.endpoints?.some((endpoint) => endpoint.id === id)) {
      throw ApplicationFailure.nonRetryable(`endpoint ${id} not found`, UNKNOWN_ENDPOINT);
    }
  };
  const roomFor = (id: string, max: number) => {
    first();
    if (state.endpoints?.some((endpoint) => endpoint.id === id)) {
      throw ApplicationFailure.nonRetryable(`endpoint ${id} exists`, 'EndpointExists');
    }
    if ((state.endpoints?.length ?? 0) + 1 >= max) {
      throw ApplicationFailure.nonRetryable(`at most ${max} endpoints per environment`, TOO_MANY_ENDPOINTS);
    }
  };

  // Listed only: the API configured it next, which a crash or a refusal could keep from happening. What the API
  // before createEndpoint sent; kept for its Updates in flight and recorded histories.
  setHandler(
    addEndpointUpdate,
    ({ max: _max, ...endpoint }) => {
      state.endpoints = [...(state.endpoints ?? []), endpoint];
      entity.publish();
      return state;
    },
    { validator: ({ id, max }) => roomFor(id, max) },
  );

  // An Update: the customer is answered with the new endpoint (its secret, shown once), listed and started in the same
  // workflow task: a crash after it is accepted leaves both or neither, and a refusal (the limit, a bad configuration)
  // records nothing.
  setHandler(
    createEndpointUpdate,
    async ({ endpoint, configuration }) => {
      state.endpoints = [...(state.endpoints ?? []), endpoint];
      entity.publish();
      return startEndpoint(state, endpoint.id, configuration);
    },
    {
      validator: ({ endpoint, max, configuration }) => {
        roomFor(endpoint.id, max);
        validateConfiguration(configuration);
      },
    },
  );

  setHandler(
    setEndpointRouteUpdate,
    ({ id, route }) => {
      if (id === undefined) state.route = route;
      else
        state.endpoints = state.endpoints!.map((endpoint) => (endpoint.id === id ? { ...endpoint, route } : endpoint));
      entity.publish();
      return state;
    },
    { validator: ({ id }) => void (id === undefined || known(id)) },
  );

  // What the API before deleteEndpoint sent (then setActive(false) on the endpoint, which kept running); kept for its
  // Updates in flight and recorded histories.
  setHandler(
    removeEndpointUpdate,
    ({ id }) => {
      state.endpoints = state.endpoints!.filter((endpoint) => endpoint.id !== id);
      entity.publish();
      return state;
    },
    { validator: ({ id }) => known(id) },
  );

  // An Update: the customer is answered once the endpoint is out of the routes (this memo, written with the answer)
  // and its own entity says `deleted` (the activity, scheduled in the same task as the removal, so neither happens
  // without the other): no attempt after the answer sends anything to it.
  setHandler(
    deleteEndpointUpdate,
    async ({ id }) => {
      const deleted = { id, deletedAt: new Date().toISOString() };
      state.endpoints = state.endpoints!.filter((endpoint) => endpoint.id !== id);
      state.deletedEndpoints = [...(state.deletedEndpoints ?? []), deleted].slice(-DELETED_ENDPOINTS_LISTED);
      entity.publish();
      const { environment, customerId, customerName } = state;
      await tellEndpointDeleted({
        environment,
        customerId,
        endpointId: id,
        customerName,
        deletedAt: deleted.deletedAt,
      });
      return deleted;
    },
    {
      validator: ({ id }) => {
        first();
        known(id);
      },
    },
  );

  // An Update from a deleted endpoint's entity about to end: its prefix is empty, nothing is left to list.
  setHandler(endpointSettledUpdate, ({ id }) => {
    const left = state.deletedEndpoints?.filter((endpoint) => endpoint.id !== id);
    state.deletedEndpoints = left?.length ? left : undefined;
    entity.publish();
  });
}

/**
 * Another endpoint's entity, started configured by its first endpoint's (a child it abandons: it lives on its own).
 * Answers the state it starts with.
 */
async function startEndpoint(
  first: EndpointState,
  endpointId: string,
  configuration: ConfigureEndpointInput,
): Promise<EndpointState> {
  const { environment, customerId, customerName } = first;
  const state = newEndpointState({
    environment,
    customerId,
    customerName,
    endpointId,
    updatedAt: new Date().toISOString(),
  });
  applyConfiguration(state, configuration);
  try {
    await startChild('endpointEntity', {
      workflowId: endpointWorkflowId(environment, customerId, endpointId),
      args: [{ state, statusShown: 'active' }],
      memo: { endpoint: state },
      typedSearchAttributes: endpointSearchAttributes(state),
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    // Started already (ids are random: not by anyone else).
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return state;
}
