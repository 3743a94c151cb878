import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  newPortalSessionId,
  portalSigningKeys,
  PortalTokenError,
  signPortalToken,
  verifyPortalToken,
} from '../../src/lib/portal-tokens';

const ring = (...ids: string[]) => ids.map((id) => ({ id, key: randomBytes(32) }));
const payload = (exp: number) => ({ sid: newPortalSessionId(), cid: 'acme', env: 'production' as const, exp });
const refused = (reason: 'invalid' | 'expired') => (err: unknown) =>
  err instanceof PortalTokenError && err.reason === reason;

describe('portal tokens', () => {
  it('are signed with a key derived from SECRET_KEYS, never the operator key, and outlive a rotation of that ring', () => {
    const [old, next] = ring('k1', 'k2');
    const before = portalSigningKeys(undefined, [old]);
    const token = signPortalToken(before[0], 'session', payload(2_000));
    assert.ok(!before[0].equals(old.key), 'a derived key, not the sealing key itself');
    // Rotated (the new key first, the old kept): what was signed before still verifies; the new key signs.
    const after = portalSigningKeys(undefined, [next, old]);
    assert.equal(verifyPortalToken(after, 'session', token, 1_000).cid, 'acme');
    // Dropped from the ring: refused.
    assert.throws(
      () => verifyPortalToken(portalSigningKeys(undefined, [next]), 'session', token, 1_000),
      refused('invalid'),
    );
    // PORTAL_SIGNING_KEY, when set, is the one key.
    const own = portalSigningKeys('a-portal-signing-key-of-32-characters!!', [old]);
    assert.throws(() => verifyPortalToken(own, 'session', token, 1_000), refused('invalid'));
  });

  it('refuses a link as a session and a session as a link, an expired one, and any changed byte', () => {
    const keys = portalSigningKeys(undefined, ring('k1'));
    const link = signPortalToken(keys[0], 'link', payload(2_000));
    assert.throws(() => verifyPortalToken(keys, 'session', link, 1_000), refused('invalid'));
    assert.throws(() => verifyPortalToken(keys, 'session', `wps_${link.slice(4)}`, 1_000), refused('invalid'));
    assert.throws(() => verifyPortalToken(keys, 'link', link, 2_000), refused('expired'));
    // (Not the last character: its low bits are padding, which base64url decoding ignores.)
    for (let i = 4; i < link.length - 1; i += 7) {
      const changed = link.slice(0, i) + (link[i] === 'A' ? 'B' : 'A') + link.slice(i + 1);
      assert.throws(() => verifyPortalToken(keys, 'link', changed, 1_000), PortalTokenError, `byte ${i}`);
    }
  });
});
