import { readFileSync } from 'node:fs';
import { Client, Connection, WorkflowNotFoundError, type ClientInterceptors, type TLSConfig } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { EndpointReader } from '../activities';
import type { Config } from '../config';
import { endpointWorkflowId } from '../domain/ids';
import type { EndpointState } from '../domain/schemas';
import { AesGcmPayloadCodec } from './payload-codec';
import { sharedRead } from './shared-reads';

type ConnectionConfig = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CERT_FILE'
  | 'TEMPORAL_TLS_KEY_FILE'
  | 'TEMPORAL_TLS_CA_FILE'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_API_KEY'
>;

/**
 * Where and how every process connects to Temporal (the client's and the worker's connections take the same shape).
 * The PEM files are read here, at start: a rotated certificate takes a restart, as a mounted secret's update does.
 */
export function temporalConnectionOptions(config: ConnectionConfig): {
  address: string;
  tls?: TLSConfig | true;
  apiKey?: string;
} {
  const files = config.TEMPORAL_TLS_CERT_FILE || config.TEMPORAL_TLS_CA_FILE || config.TEMPORAL_TLS_SERVER_NAME;
  const useTls = config.TEMPORAL_TLS || Boolean(files) || Boolean(config.TEMPORAL_API_KEY);
  const tls: TLSConfig = {
    ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
    ...(config.TEMPORAL_TLS_CA_FILE ? { serverRootCACertificate: readFileSync(config.TEMPORAL_TLS_CA_FILE) } : {}),
    ...(config.TEMPORAL_TLS_CERT_FILE && config.TEMPORAL_TLS_KEY_FILE
      ? {
          clientCertPair: {
            crt: readFileSync(config.TEMPORAL_TLS_CERT_FILE),
            key: readFileSync(config.TEMPORAL_TLS_KEY_FILE),
          },
        }
      : {}),
  };
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(useTls ? { tls: Object.keys(tls).length > 0 ? tls : true } : {}),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}

/**
 * A worker's connection and a client sharing it (starts made on it can be eager when the worker is in the same
 * process), with the tracing interceptors when traces are exported.
 */
export async function connectWorkerClient(config: Config, interceptors?: ClientInterceptors) {
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(config),
    interceptors,
  });
  return { connection, client };
}

/** A client whose connection opens on first use, so the API can start (and answer 503) before Temporal is up. */
export function createTemporalClient(config: Config, interceptors?: ClientInterceptors): Client {
  return new Client({
    connection: Connection.lazy(temporalConnectionOptions(config)),
    interceptors,
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
    get(environment, customerId, endpointId) {
      const workflowId = endpointWorkflowId(environment, customerId, endpointId);
      return sharedRead(`describe:${workflowId}`, async () => {
        try {
          const description = await client.workflow.getHandle(workflowId).describe();
          return description.memo?.endpoint as EndpointState | undefined;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        }
      });
    },
  };
}
