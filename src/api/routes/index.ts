import type { Route } from '../route';
import { codecRoutes } from './codec';
import { customerRoutes } from './customer';
import { docsRoutes } from './docs';
import { endpointRoutes } from './endpoints';
import { eventTypeRoutes } from './event-types';
import { operatorRoutes } from './operator';
import { pageRoutes } from './page';
import { portalSessionRoutes } from './portal-sessions';
import { endpointPendingRoutes, firstEndpointPendingRoutes } from './pending';
import { serviceRoutes } from './service';

/** Every route of the API, in the order the OpenAPI document lists them. */
export const routes: Route[] = [
  ...serviceRoutes,
  ...docsRoutes,
  ...pageRoutes,
  ...codecRoutes,
  ...operatorRoutes,
  ...portalSessionRoutes,
  ...eventTypeRoutes,
  ...customerRoutes,
  ...firstEndpointPendingRoutes,
  ...endpointRoutes,
  ...endpointPendingRoutes,
];
