import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { EnvironmentSchema } from '../domain/schemas';
import { PortalSessionIdSchema } from '../domain/portal-sessions';

// A portal link's token and a portal session's bearer: a payload and its HMAC-SHA256, both base64url. Signed, so any
// API process with the same key checks them without a read (several processes, restarts); what they cannot say
// alone (the link used once, the session revoked) is the session's workflow's (src/workflows/portal-session.ts).
//
//   link    wpl_<payload>.<mac>  opens the portal once (the portal page trades it for a session)
//   session wps_<payload>.<mac>  the portal's bearer for the customer routes, held in the page's memory

const PayloadSchema = z.object({
  /** The session's id. */
  sid: PortalSessionIdSchema,
  cid: z.string().min(1),
  env: EnvironmentSchema,
  /** Expiry, ms since the epoch. */
  exp: z.number().int(),
  /** Session bearers only: read-only, and the endpoints it covers (absent: all). */
  ro: z.boolean().optional(),
  eps: z.array(z.string()).optional(),
});
export type PortalTokenPayload = z.infer<typeof PayloadSchema>;
export type PortalTokenKind = 'link' | 'session';

const PREFIX: Record<PortalTokenKind, string> = { link: 'wpl_', session: 'wps_' };

/** Why a token is refused: `invalid` (not one this key signed, or not of this kind), or `expired`. */
export class PortalTokenError extends Error {
  constructor(readonly reason: 'invalid' | 'expired') {
    super(reason === 'expired' ? 'this portal link or session has expired' : 'not a valid portal link or session');
  }
}

/**
 * The keys: the first signs, any verifies. PORTAL_SIGNING_KEY alone, or else one derived from each of SECRET_KEYS
 * (random 32-byte keys every API process has): never from the operator's key, which a person may have chosen and
 * every token would then let its holder guess at offline. A SECRET_KEYS rotation (a new key first, the old kept)
 * keeps sessions signed before it working.
 */
export function portalSigningKeys(signingKey: string | undefined, secretKeys: { key: Buffer }[]): Buffer[] {
  if (signingKey) return [Buffer.from(signingKey, 'utf8')];
  if (secretKeys.length === 0) throw new Error('SECRET_KEYS is not set: portal sessions need a key to be signed with');
  return secretKeys.map(({ key }) => Buffer.from(hkdfSync('sha256', key, 'webhook-delivery', 'portal-sessions', 32)));
}

/** A new session id: 24 base62 characters of random bytes (base64url without its two symbols). */
export function newPortalSessionId(): string {
  for (;;) {
    const id = randomBytes(24).toString('base64url').replace(/[-_]/g, '').slice(0, 24);
    if (id.length === 24) return `ps_${id}`;
  }
}

const mac = (key: Buffer, kind: PortalTokenKind, body: string) =>
  createHmac('sha256', key).update(`${kind}.${body}`).digest();

export function signPortalToken(key: Buffer, kind: PortalTokenKind, payload: PortalTokenPayload): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${PREFIX[kind]}${body}.${mac(key, kind, body).toString('base64url')}`;
}

/** Whether `token` looks like a token of `kind` (a bearer that is no API key goes here). */
export const isPortalToken = (token: string, kind: PortalTokenKind): boolean => token.startsWith(PREFIX[kind]);

/** The payload of a token one of `keys` signed for `kind`, unexpired at `now`; a PortalTokenError otherwise. */
export function verifyPortalToken(
  keys: Buffer[],
  kind: PortalTokenKind,
  token: string,
  now: number,
): PortalTokenPayload {
  const match = /^wp[ls]_([A-Za-z0-9_-]{1,4096})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match || !isPortalToken(token, kind)) throw new PortalTokenError('invalid');
  const [, body, signature] = match;
  const given = Buffer.from(signature, 'base64url');
  const signed = keys.some((key) => {
    const expected = mac(key, kind, body);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!signed) throw new PortalTokenError('invalid');
  let payload: PortalTokenPayload;
  try {
    payload = PayloadSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
  } catch {
    throw new PortalTokenError('invalid');
  }
  if (payload.exp <= now) throw new PortalTokenError('expired');
  return payload;
}
