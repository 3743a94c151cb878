import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EndpointState } from '../domain/schemas';
import { isSealedSecret, SEALED_PREFIX } from '../domain/secrets';
import type { PayloadKey } from './payload-codec';
import { signingSecrets } from './signature';

// Customers' signing secrets and the values of their endpoints' custom headers (receivers' tokens) are sealed with
// keys of their own (SECRET_KEYS) before they reach Temporal: the entity holds, and its memo and query show,
// `sealed:v1:<key id>:<base64>`. The payload codec (which the Web UI and the CLI decode through) opens the payload
// around it, not the secret: whoever can read workflows in the Web UI sees that a secret exists, never its value.
// Only the API (to show a secret it just set) and the activities that sign or send open them.

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretSeal {
  private readonly byId: Map<string, Buffer>;

  /** The first key seals, every key opens: keys rotate without a flag day. */
  constructor(private readonly keys: PayloadKey[]) {
    if (keys.length === 0) throw new Error('SECRET_KEYS is not set: signing secrets would be readable in Temporal');
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  /** A secret sealed; one sealed already is returned as it is. */
  seal(secret: string): string {
    return isSealedSecret(secret) ? secret : this.encrypt(secret);
  }

  /**
   * Header values as a customer gave them, each sealed (a null, a PATCH's removal, stays null). Always sealed: a value
   * that merely looks sealed is the customer's own text, and is sent as given.
   */
  sealHeaders<V extends string | null>(headers: Record<string, V>): Record<string, V> {
    return Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name, value === null ? value : this.encrypt(value)]),
    ) as Record<string, V>;
  }

  /** The header values to send (one held in the clear by an entity from before sealing is sent as it is). */
  openHeaders(headers: Record<string, string> | undefined): Record<string, string> | undefined {
    return headers && Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, this.open(value)]));
  }

  private encrypt(value: string): string {
    const { id, key } = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const sealed = Buffer.concat([iv, cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${SEALED_PREFIX}${id}:${sealed.toString('base64')}`;
  }

  /** The secret itself; one stored before sealing existed (`whsec_...`) is returned as it is. */
  open(value: string): string {
    if (!isSealedSecret(value)) return value;
    const [id, encoded] = value.slice(SEALED_PREFIX.length).split(':');
    const key = this.byId.get(id);
    if (!key) throw new Error(`no secret key with id "${id}": add it to SECRET_KEYS`);
    const data = Buffer.from(encoded ?? '', 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }

  /** The opened secrets that sign a message now (signature.ts: the current one, and a rotated one in its grace). */
  signingSecrets(endpoint: Pick<EndpointState, 'secret' | 'previousSecret'>, now: Date): string[] {
    return signingSecrets(endpoint, now).map((secret) => this.open(secret));
  }
}
