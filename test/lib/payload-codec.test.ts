import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, generatePayloadKey, parsePayloadKeys } from '../../src/lib/payload-codec';

const secret = { secret: 'whsec_c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw==' };

describe('the AES-256-GCM payload codec', () => {
  const [k1] = parsePayloadKeys(generatePayloadKey('k1'));
  const [k2] = parsePayloadKeys(generatePayloadKey('k2'));
  const plain = defaultPayloadConverter.toPayload(secret);

  it('encrypts: the stored bytes carry the key id, not the secret, and decode back', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const [encoded] = await codec.encode([plain]);
    assert.equal(Buffer.from(encoded.metadata!.encoding!).toString(), 'binary/encrypted');
    assert.equal(Buffer.from(encoded.metadata!['encryption-key-id']!).toString(), 'k1');
    assert.ok(!Buffer.from(encoded.data!).toString('latin1').includes('whsec_'));
    const [decoded] = await codec.decode([encoded]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded), secret);
  });

  it('rotates: the first key encrypts, every key decrypts', async () => {
    const [old] = await new AesGcmPayloadCodec([k1]).encode([plain]);
    const rotated = new AesGcmPayloadCodec([k2, k1]);
    assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([old]))[0]), secret);
    const [fresh] = await rotated.encode([plain]);
    assert.equal(Buffer.from(fresh.metadata!['encryption-key-id']!).toString(), 'k2');
    await assert.rejects(new AesGcmPayloadCodec([k1]).decode([fresh]), /no payload key with id "k2"/);
  });

  it('lets payloads written before the codec through as they are', async () => {
    assert.deepEqual(await new AesGcmPayloadCodec([k1]).decode([plain]), [plain]);
  });

  it('refuses a tampered payload and malformed keys', async () => {
    const [encoded] = await new AesGcmPayloadCodec([k1]).encode([plain]);
    const data = Buffer.from(encoded.data!);
    data[20] ^= 1;
    await assert.rejects(new AesGcmPayloadCodec([k1]).decode([{ ...encoded, data }]));
    assert.throws(() => parsePayloadKeys('k1:c2hvcnQ='), /32 random bytes/);
    assert.throws(() => parsePayloadKeys('no-key-at-all'), /32 random bytes/);
  });
});
