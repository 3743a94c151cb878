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

/**
 * The agent operator events go through: the operator's webhook is the platform's own, often an internal address
 * (an alerting bridge in the same network), so the private-address policy for customers' URLs does not apply.
 */
export function createOperatorAgent(config: Config): Agent {
  return new Agent({ connect: { timeout: config.DELIVERY_TIMEOUT }, keepAliveTimeout: 10_000 });
}
