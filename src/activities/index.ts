import type { S3Client } from '@aws-sdk/client-s3';
import type { Transporter } from 'nodemailer';
import type { Dispatcher } from 'undici';
import type { Config } from '../config';
import { createArchiveActivities } from './archive';
import { createDeliverActivities, type EndpointReader } from './deliver';
import { createEndpointActivities } from './endpoint';
import { createPendingActivities } from './pending';

export interface ActivityDeps {
  s3: S3Client;
  http: Dispatcher;
  endpoints: EndpointReader;
  mailer: Transporter;
  config: Config;
}

/** All activities, built from their clients so tests can hand in real servers on their own ports. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDeliverActivities(deps),
    ...createArchiveActivities(deps),
    ...createEndpointActivities(deps),
    ...createPendingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { EndpointReader } from './deliver';
