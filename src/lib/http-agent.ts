import { Agent } from 'undici';
import type { Config } from '../config';
import { publicOnlyLookup } from './private-address';

/** The agent every delivery goes through; outside the local stack it refuses hosts that resolve to private ranges. */
export function createDeliveryAgent(config: Config): Agent {
  return new Agent({
    connect: {
      timeout: config.DELIVERY_TIMEOUT,
      ...(config.ALLOW_PRIVATE_URLS ? {} : { lookup: publicOnlyLookup }),
    },
    keepAliveTimeout: 10_000,
  });
}
