import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { endpointWorkflowId } from '../../domain/ids';
import type { CreateCustomer, EndpointState, Environment } from '../../domain/schemas';
import { ENVIRONMENTS } from '../../domain/schemas';
import { CustomerIdKey, EnvironmentKey } from '../../domain/search-attributes';
import { generateApiKey, hashApiKey } from '../../lib/api-keys';
import type { endpointEntity } from '../../workflows';
import { AppError } from '../errors';
import type { ServiceContext } from './context';
import { START_ONCE } from './documents';

/** Customers: one endpoint entity per environment, each with its own API key. */
export function createCustomerService({ client, config }: ServiceContext) {
  return {
    async createCustomer({ id, name }: CreateCustomer): Promise<Record<Environment, string>> {
      const apiKeys = {} as Record<Environment, string>;
      for (const environment of ENVIRONMENTS) {
        const apiKey = generateApiKey(environment, id);
        const initial: EndpointState = {
          customerId: id,
          customerName: name,
          environment,
          apiKeyHash: hashApiKey(apiKey),
          status: 'active',
          preferences: { pendingNotifications: true },
          counters: { retriesExhausted: 0, suspensions: 0, consecutiveExhausted: 0 },
          updatedAt: new Date().toISOString(),
        };
        try {
          await client.workflow.start<typeof endpointEntity>('endpointEntity', {
            workflowId: endpointWorkflowId(environment, id),
            taskQueue: config.TASK_QUEUE,
            args: [{ state: initial }],
            memo: { endpoint: initial },
            typedSearchAttributes: [
              { key: CustomerIdKey, value: id },
              { key: EnvironmentKey, value: environment },
            ],
            ...START_ONCE,
          });
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) {
            throw new AppError('conflict', `customer ${id} already exists`, 409);
          }
          throw err;
        }
        apiKeys[environment] = apiKey;
      }
      return apiKeys;
    },
  };
}
