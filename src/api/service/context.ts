import type { SecretSeal } from '../../lib/secret-seal';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { EndpointReader } from '../../activities';
import type { Config } from '../../config';
import type { Metrics } from '../../lib/metrics';
import type { PendingCounter } from '../../bucket/counts';
import type { BodyStore } from '../../bucket/bodies';
import type { PendingQueue } from '../../bucket/queue';

/** What every part of the service works with: one lazily connected Temporal client, the bucket, the config. */
export interface ServiceContext {
  client: Client;
  s3: S3Client;
  store: PendingQueue;
  /** Large documents' bodies, stored once at submit (bucket/bodies.ts). */
  bodies: BodyStore;
  /** A customer's pending count at one S3 request (bucket/counts.ts). */
  counter: PendingCounter;
  endpoints: EndpointReader;
  config: Config;
  metrics: Metrics;
  /** The workflows' clock (the Temporal server's): this process's own unless a test moves it. */
  clock: () => Promise<number>;
  /** Seals the signing secrets the API makes, and opens one to show it (lib/secret-seal.ts). */
  seal: SecretSeal;
}
