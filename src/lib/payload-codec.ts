import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface PayloadKey {
  id: string;
  /** 32 bytes: AES-256. */
  key: Buffer;
}

/** `id1:base64,id2:base64`: the first key encrypts, every key decrypts, so keys rotate without a flag day. */
export function parsePayloadKeys(text: string): PayloadKey[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [id, encoded, ...rest] = part.split(':');
      const key = Buffer.from(encoded ?? '', 'base64');
      if (!id || rest.length > 0 || key.length !== 32) {
        throw new Error('each payload key is <id>:<base64 of 32 random bytes>');
      }
      return { id, key };
    });
}

/**
 * Encrypts every payload Temporal stores (workflow inputs and results, signals, updates, queries, activity inputs and
 * results, the memo) with AES-256-GCM; the key id travels in the payload's metadata. Payloads written before the codec
 * existed (no `binary/encrypted` encoding) pass through as they are, so old histories still replay.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: PayloadKey[]) {
    if (keys.length === 0) throw new Error('the payload codec needs at least one key');
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0];
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: Buffer.from(ENCODING), [KEY_ID]: Buffer.from(id) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCODING) return payload;
      const id = Buffer.from(payload.metadata?.[KEY_ID] ?? []).toString();
      const key = this.byId.get(id);
      if (!key) throw new Error(`no payload key with id "${id}": add it to PAYLOAD_KEYS`);
      const data = Buffer.from(payload.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** A fresh key for `PAYLOAD_KEYS`, as `npm start` makes one on first run. */
export function generatePayloadKey(id = `k${Date.now().toString(36)}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
