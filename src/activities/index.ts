import type { Tracer } from '@opentelemetry/api';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { Transporter } from 'nodemailer';
import type { Dispatcher } from 'undici';
import type { Config } from '../config';
import type { Metrics } from '../lib/metrics';
import { SecretSeal } from '../lib/secret-seal';
import { createSendGuards, type SendGuards } from '../lib/send-guards';
import { createBodyStore } from '../bucket/bodies';
import { createColdStore } from '../bucket/cold';
import { createPendingCounter } from '../bucket/counts';
import { createPendingQueue } from '../bucket/queue';
import type { SlotReserver } from '../rate-limit/reserver';
import { createDeliverActivities, type EndpointReader } from './deliver';
import { createEndpointActivities } from './endpoint';
import { createEndpointListActivities } from './endpoint-list';
import { createOperatorActivities } from './operator';
import { createPendingActivities } from './pending';
import { createRedeliverActivities } from './redeliver';
import { createRestoreActivities } from './restore';

export interface ActivityDeps {
  s3: S3Client;
  http: Dispatcher;
  /** Operator events' agent: the operator's own webhook may be on a private network (lib/http-agent.ts). */
  operatorHttp: Dispatcher;
  endpoints: EndpointReader;
  mailer: Transporter;
  /** A rate-limited endpoint's send slots, from its entity. */
  slots: SlotReserver;
  /** Runs the protocol's Updates on other workflows (redeliveries, exhausted reports). */
  client: Client;
  config: Config;
  metrics: Metrics;
  /** Each endpoint's share of this process's sending capacity and each URL's breaker, for every sending path. */
  guards?: SendGuards;
  /** The clock rate-limit slots are reckoned in (the Temporal server's): this process's own unless a test says. */
  clock?: () => Promise<number>;
  /** Set when traces are exported (src/lib/tracing.ts). */
  tracer?: Tracer;
}

/** All activities, built from their clients so tests can hand in real servers on their own ports. */
export function createActivities(deps: ActivityDeps) {
  const store = createPendingQueue(deps);
  const coldStore = createColdStore(deps);
  const bodies = createBodyStore(deps);
  const counter = createPendingCounter({ store, client: deps.client });
  const guards = deps.guards ?? createSendGuards(deps.config);
  const seal = new SecretSeal(deps.config.SECRET_KEYS);
  return {
    ...createDeliverActivities({ ...deps, store, bodies, guards, seal }),
    ...createPendingActivities({ ...deps, store, coldStore, bodies, counter }),
    ...createEndpointActivities({ ...deps, counter, guards, seal }),
    ...createEndpointListActivities(deps),
    ...createRedeliverActivities({ ...deps, store }),
    ...createOperatorActivities({ ...deps, guards }),
    ...createRestoreActivities({ ...deps, coldStore, bodies }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { EndpointReader } from './deliver';
