import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateApiKey, hashApiKey, parseApiKey, sameSecret } from '../../src/lib/api-keys';

const SECRET = 'ab'.repeat(32);
const forge = (customerPart: string, secret = SECRET) => `sk_production_${customerPart}_${secret}`;
const b64 = (text: string) => Buffer.from(text).toString('base64url');

describe('API keys', () => {
  it('parses the keys it generates, for the longest customer id too', () => {
    for (const customerId of ['acme', 'a', 'A0._-z', 'c'.repeat(128)]) {
      const key = generateApiKey('sandbox', customerId);
      assert.deepEqual(parseApiKey(key), { environment: 'sandbox', customerId });
      assert.ok(sameSecret(key, hashApiKey(key)));
      assert.ok(!sameSecret(generateApiKey('sandbox', customerId), hashApiKey(key)));
    }
  });

  it('names no customer when its customer part is not the encoding of a customer id', () => {
    for (const [why, key] of [
      ["another endpoint's entity", forge(b64('acme:ep_0123456789abcdef01234567'))],
      ['a ":"', forge(b64('acme:'))],
      ['a "/"', forge(b64('acme/../other'))],
      ['a "~"', forge(b64('acme~ep_1'))],
      ['a space', forge(b64('acme corp'))],
      ['longer than an id', forge(b64('c'.repeat(129)))],
      ['empty once decoded', forge('_')],
      ['not UTF-8', forge(Buffer.from([0xff, 0xfe, 0x41]).toString('base64url'))],
      ['not base64url', forge('acme!')],
      ['not the canonical encoding (the last character carries bits that decode to nothing)', forge('YWNtZR')],
      ['no customer part', 'sk_production__' + SECRET],
      ['a secret too short', forge(b64('acme'), SECRET.slice(1))],
      ['a secret too long', forge(b64('acme'), `${SECRET}0`)],
      ['an unknown environment', `sk_staging_${b64('acme')}_${SECRET}`],
    ]) {
      assert.equal(parseApiKey(key), undefined, why);
    }
    assert.equal(Buffer.from('YWNtZR', 'base64url').toString(), 'acme', 'the lenient decoding the parse refuses');
  });

  it('matches no key against a stored hash that is missing, empty or not a SHA-256 digest', () => {
    const key = generateApiKey('production', 'acme');
    const hash = hashApiKey(key);
    assert.ok(sameSecret(key, hash));
    for (const stored of ['', undefined, hash.slice(2), `${hash}00`, 'zz'.repeat(32), hash.toUpperCase()]) {
      assert.equal(sameSecret(key, stored), false, String(stored));
    }
  });
});
