import { endpointWorkflowId } from '../../domain/ids';
import type { CreateCustomer, Environment } from '../../domain/schemas';
import { ENVIRONMENTS } from '../../domain/schemas';
import { generateApiKey, hashApiKey } from '../../lib/api-keys';
import { entityStart } from '../../lib/entity-start';
import type { endpointEntity } from '../../workflows';
import { reissueApiKeyUpdate } from '../../workflows/messages';
import { AppError } from '../errors';
import { rethrowTemporal } from '../temporal-errors';
import type { ServiceContext } from './context';
import { START_ONCE } from './documents';

/** Customers: one endpoint entity per environment, each with its own API key. */
export function createCustomerService({ client, config, endpoints }: ServiceContext) {
  return {
    /**
     * One endpoint entity per environment, each with its own key, shown once. Resumable: a create that failed between
     * the environments (so its keys were never shown) completes when retried with the same id and name, with fresh
     * keys for the environments that already exist. A complete customer, or another name, is a 409.
     */
    async createCustomer({ id, name }: CreateCustomer): Promise<Record<Environment, string>> {
      const existing = await Promise.all(ENVIRONMENTS.map((environment) => endpoints.get(environment, id)));
      if (existing.every(Boolean) || existing.some((endpoint) => endpoint && endpoint.customerName !== name)) {
        throw new AppError('conflict', `customer ${id} already exists`, 409);
      }
      const apiKeys = {} as Record<Environment, string>;
      for (const [index, environment] of ENVIRONMENTS.entries()) {
        const apiKey = generateApiKey(environment, id);
        if (existing[index]) {
          await client.workflow
            .getHandle(endpointWorkflowId(environment, id))
            .executeUpdate(reissueApiKeyUpdate, { args: [{ apiKeyHash: hashApiKey(apiKey) }] });
        } else {
          await startEntity(environment, id, name, hashApiKey(apiKey));
        }
        apiKeys[environment] = apiKey;
      }
      return apiKeys;
    },
  };

  async function startEntity(environment: Environment, id: string, name: string, apiKeyHash: string) {
    try {
      await client.workflow.start<typeof endpointEntity>('endpointEntity', {
        ...entityStart(environment, id, name, config, { apiKeyHash }),
        ...START_ONCE,
      });
    } catch (err) {
      // Created by a concurrent request meanwhile.
      rethrowTemporal(err, { alreadyStarted: new AppError('conflict', `customer ${id} already exists`, 409) });
    }
  }
}
