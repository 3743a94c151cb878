import type { Config } from '../config';
import { newEndpointState } from '../domain/endpoint-state';
import { fairnessKey } from '../domain/fairness';
import { endpointWorkflowId } from '../domain/ids';
import type { Environment } from '../domain/schemas';
import { endpointSearchAttributes } from '../domain/search-attributes';
import type { EndpointEntityInput } from '../workflows/endpoint/entity';

/**
 * An endpoint entity's start, from the API (a customer's first endpoint; a PUT of another listed without one) and from
 * an activity (a deletion reaching an endpoint that has none): the first endpoint's with the customer's key hash,
 * another's with its id and none.
 */
export function entityStart(
  environment: Environment,
  customerId: string,
  customerName: string,
  config: Pick<Config, 'TASK_QUEUE'>,
  which: { apiKeyHash: string; endpointId?: undefined } | { apiKeyHash?: undefined; endpointId: string },
) {
  const initial = newEndpointState({
    environment,
    customerId,
    customerName,
    ...which,
    updatedAt: new Date().toISOString(),
  });
  return {
    workflowId: endpointWorkflowId(environment, customerId, which.endpointId),
    taskQueue: config.TASK_QUEUE,
    args: [{ state: initial, statusShown: 'active' }] as [EndpointEntityInput],
    memo: { endpoint: initial },
    priority: { fairnessKey: fairnessKey(environment, customerId) },
    typedSearchAttributes: endpointSearchAttributes(initial),
  };
}

/** Another endpoint's entity. */
export const otherEntityStart = (
  environment: Environment,
  customerId: string,
  endpointId: string,
  customerName: string,
  config: Pick<Config, 'TASK_QUEUE'>,
) => entityStart(environment, customerId, customerName, config, { endpointId });
