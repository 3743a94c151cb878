import type { Config } from '../config';
import type { Environment } from '../domain/environments';
import { CircuitBreakers } from './circuit-breaker';
import { EndpointShares, isShareFull } from './endpoint-share';
import { SendPacer } from '../rate-limit/pacer';

/**
 * What every sending path shares in one worker process: each endpoint's share of it, each URL's breaker, and the
 * times a rate-limited endpoint was really sent to.
 */
export interface SendGuards {
  shares: EndpointShares;
  breakers: CircuitBreakers;
  pacer: SendPacer;
}

export function createSendGuards(config: Config, workers?: () => number): SendGuards {
  return {
    shares: new EndpointShares(config.DELIVERY_TIMEOUT, workers),
    breakers: new CircuitBreakers({
      failures: config.BREAKER_FAILURES,
      windowMs: config.BREAKER_WINDOW,
      cooldownMs: config.BREAKER_COOLDOWN,
      maxCooldownMs: config.BREAKER_MAX_COOLDOWN,
    }),
    pacer: new SendPacer(),
  };
}

/**
 * An endpoint's share: deliveries and notifications of one endpoint count together, within its own `maxInFlight` or
 * the platform's default. `queue` names the endpoint (domain/ids.ts queueOf): the customer's id for its first.
 */
export function endpointShare(
  environment: Environment,
  queue: string,
  maxInFlight: number | undefined,
  config: Pick<Config, 'ENDPOINT_MAX_IN_FLIGHT'>,
) {
  return { key: `${environment}/${queue}`, limit: maxInFlight ?? config.ENDPOINT_MAX_IN_FLIGHT };
}

/**
 * Runs `send` holding a place in the share of `key` (deliveries' attempts take theirs in attemptDelivery), or answers
 * `busy` without sending when the share is full: the caller's workflow waits and tries again.
 */
export async function withPlace<T>(
  guards: SendGuards,
  share: { key: string; limit: number; kind: 'notification' | 'operator' },
  send: () => Promise<T>,
): Promise<T | 'busy'> {
  const place = await guards.shares.enter(share.key, share.limit, share.kind);
  if (isShareFull(place)) return 'busy';
  try {
    return await send();
  } finally {
    place.leave();
  }
}
