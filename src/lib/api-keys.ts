import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { IdSchema, type Environment } from '../domain/schemas';

// A key names its environment and customer, so one lookup finds the hash to compare against; the secret part is
// 256 random bits, which is why a plain SHA-256 is a sufficient hash (no password stretching needed).
const KEY = /^sk_(sandbox|production)_([A-Za-z0-9_-]+)_([0-9a-f]{64})$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function generateApiKey(environment: Environment, customerId: string): string {
  return `sk_${environment}_${Buffer.from(customerId).toString('base64url')}_${randomBytes(32).toString('hex')}`;
}

/**
 * The environment and customer a key names, or undefined when it is not a key we could have made: the customer part
 * must be the exact encoding of a customer id. Anything else would name another workflow (`acme:ep_1` is another
 * endpoint's entity, which has no key) or an id no workflow can have.
 */
export function parseApiKey(key: string): { environment: Environment; customerId: string } | undefined {
  const match = KEY.exec(key);
  if (!match) return undefined;
  const customerId = Buffer.from(match[2], 'base64url').toString();
  if (!IdSchema.safeParse(customerId).success || Buffer.from(customerId).toString('base64url') !== match[2]) {
    return undefined;
  }
  return { environment: match[1] as Environment, customerId };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * Compares digests of both sides, so neither the length nor the content of the secret leaks through timing. A stored
 * hash that is not a digest (none, or the empty one of an endpoint's entity that holds no key) matches nothing.
 */
export function sameSecret(given: string, expectedHashHex: string | undefined): boolean {
  if (!expectedHashHex || !SHA256_HEX.test(expectedHashHex)) return false;
  return timingSafeEqual(Buffer.from(hashApiKey(given), 'hex'), Buffer.from(expectedHashHex, 'hex'));
}
