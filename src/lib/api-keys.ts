import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Environment } from '../domain/schemas';

// A key names its environment and customer, so one lookup finds the hash to compare against; the secret part is
// 256 random bits, which is why a plain SHA-256 is a sufficient hash (no password stretching needed).
const KEY = /^sk_(sandbox|production)_([A-Za-z0-9_-]+)_([0-9a-f]{64})$/;

export function generateApiKey(environment: Environment, customerId: string): string {
  return `sk_${environment}_${Buffer.from(customerId).toString('base64url')}_${randomBytes(32).toString('hex')}`;
}

export function parseApiKey(key: string): { environment: Environment; customerId: string } | undefined {
  const match = KEY.exec(key);
  if (!match) return undefined;
  return { environment: match[1] as Environment, customerId: Buffer.from(match[2], 'base64url').toString() };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Compares digests of both sides, so neither the length nor the content of the secret leaks through timing. */
export function sameSecret(given: string, expectedHashHex: string): boolean {
  return timingSafeEqual(Buffer.from(hashApiKey(given), 'hex'), Buffer.from(expectedHashHex, 'hex'));
}
