import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatePayloadKey, parsePayloadKeys } from '../../src/lib/payload-codec';
import { SecretSeal } from '../../src/lib/secret-seal';
import { generateWebhookSecret } from '../../src/lib/signature';

describe('SecretSeal', () => {
  const keys = parsePayloadKeys(`${generatePayloadKey('new')},${generatePayloadKey('old')}`);

  it('seals a secret into a value that does not contain it, and opens it again', () => {
    const seal = new SecretSeal(keys);
    const secret = generateWebhookSecret();
    const sealed = seal.seal(secret);
    assert.match(sealed, /^sealed:v1:new:/);
    assert.ok(!sealed.includes(secret.slice('whsec_'.length)));
    assert.notEqual(seal.seal(secret), sealed, 'a fresh IV each time');
    assert.equal(seal.open(sealed), secret);
    assert.equal(seal.seal(sealed), sealed, 'sealing twice is sealing once');
  });

  it('opens what an older key sealed, passes a secret from before sealing through, and refuses an unknown key', () => {
    const secret = generateWebhookSecret();
    const before = new SecretSeal([keys[1]]).seal(secret);
    assert.equal(new SecretSeal(keys).open(before), secret, 'keys rotate without a flag day');
    assert.equal(new SecretSeal(keys).open(secret), secret);
    assert.throws(() => new SecretSeal([keys[0]]).open(before), /no secret key with id "old"/);
    assert.throws(() => new SecretSeal(keys).open(`${before.slice(0, -4)}AAA=`), 'tampered with');
    assert.throws(() => new SecretSeal([]), /SECRET_KEYS is not set/);
  });

  it('opens the secrets that sign now: the current one, and a rotated one in its grace', () => {
    const seal = new SecretSeal(keys);
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const endpoint = {
      secret: seal.seal(current),
      previousSecret: { secret: seal.seal(previous), expiresAt: '2026-12-02T00:00:00.000Z' },
    };
    assert.deepEqual(seal.signingSecrets(endpoint, new Date('2026-12-01T00:00:00.000Z')), [current, previous]);
    assert.deepEqual(seal.signingSecrets(endpoint, new Date('2026-12-03T00:00:00.000Z')), [current]);
  });
});
