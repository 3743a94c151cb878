import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { EndpointReader } from '../activities';
import type { Config } from '../config';
import { endpointWorkflowId } from '../domain/ids';
import type { EndpointState } from '../domain/schemas';
import { AesGcmPayloadCodec } from './payload-codec';

/** A client whose connection opens on first use, so the API can start (and answer 503) before Temporal is up. */
export function createTemporalClient(config: Config): Client {
  return new Client({
    connection: Connection.lazy({ address: config.TEMPORAL_ADDRESS }),
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(config),
  });
}

/** Every client and worker encrypts what Temporal stores when keys are configured (always, outside tests). */
export function dataConverter(config: Config): DataConverter | undefined {
  return config.PAYLOAD_KEYS.length > 0 ? { payloadCodecs: [new AesGcmPayloadCodec(config.PAYLOAD_KEYS)] } : undefined;
}

/**
 * Reads endpoints from their entity workflows, the one place their state lives for every process, through the memo
 * the entity keeps current (a describe is served by the cluster; a query would queue behind the entity's other work).
 */
export function createEndpointReader(client: Client): EndpointReader {
  return {
    async get(environment, customerId, endpointId) {
      try {
        const handle = client.workflow.getHandle(endpointWorkflowId(environment, customerId, endpointId));
        const description = await handle.describe();
        return description.memo?.endpoint as EndpointState | undefined;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    },
  };
}
