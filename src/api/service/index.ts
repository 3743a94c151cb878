import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import { ENVIRONMENTS } from '../../domain/schemas';
import { createMetrics, type Metrics } from '../../lib/metrics';
import { SecretSeal } from '../../lib/secret-seal';
import { createEndpointReader } from '../../lib/temporal';
import { createBodyStore } from '../../bucket/bodies';
import { createPendingCounter } from '../../bucket/counts';
import { createPendingQueue } from '../../bucket/queue';
import type { ServiceContext } from './context';
import { createCustomerService } from './customers';
import { createDocumentService } from './documents';
import { createEndpointDirectory, createEndpointService } from './endpoints';
import { createEventTypeService } from './event-types';
import { createMessageLogService } from './message-log';
import { createPendingService } from './pending';
import { createPortalSessionService } from './portal-sessions';
import { createPendingEverywhere } from './pending-everywhere';
import { createResendService } from './resend';
import { createRestoreService } from './restore';
import { createWebhookService } from './webhook';

/** The API's only door to Temporal and S3: routes call these and never touch the clients themselves. */
export function createDeliveryService({
  client,
  s3,
  config,
  metrics = createMetrics(),
  clock = async () => Date.now(),
}: {
  client: Client;
  s3: S3Client;
  config: Config;
  metrics?: Metrics;
  clock?: () => Promise<number>;
}) {
  const store = createPendingQueue({ s3, config });
  const context: ServiceContext = {
    client,
    s3,
    config,
    metrics,
    store,
    bodies: createBodyStore({ s3, config }),
    counter: createPendingCounter({ store, client }),
    clock,
    endpoints: createEndpointReader(client),
    seal: new SecretSeal(config.SECRET_KEYS),
  };
  const webhook = createWebhookService(context);
  const eventTypes = createEventTypeService(context);
  const documents = createDocumentService(context, eventTypes);
  const pending = createPendingService(context, documents);
  return {
    ...createCustomerService(context),
    ...webhook,
    ...createEndpointService(context, webhook),
    ...createEndpointDirectory(context),
    ...documents,
    ...eventTypes,
    ...createMessageLogService(context),
    ...pending,
    ...createPendingEverywhere(context, pending, documents),
    ...createResendService(context, documents, pending),
    ...createRestoreService(context),
    ...createPortalSessionService(context),

    /** Healthy when Temporal answers and both buckets exist. */
    async checkHealth(): Promise<void> {
      await client.connection.ensureConnected();
      await client.workflowService.getSystemInfo({});
      for (const environment of ENVIRONMENTS) {
        await s3.send(new HeadBucketCommand({ Bucket: config.buckets[environment] }));
      }
    },
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;
