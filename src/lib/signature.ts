import { createHmac, randomBytes } from 'node:crypto';

/** A Standard Webhooks secret: `whsec_` followed by base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}` with the secret's decoded bytes (Standard Webhooks). */
function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * The secrets that sign a message now: the endpoint's, and during a rotation's grace the previous one too. Receivers
 * holding either verify it (Standard Webhooks: a space-separated list of signatures, any one of which may match).
 */
export function signingSecrets(
  endpoint: { secret?: string; previousSecret?: { secret: string; expiresAt: string } },
  now: Date,
): string[] {
  const secrets = endpoint.secret ? [endpoint.secret] : [];
  const previous = endpoint.previousSecret;
  if (previous && Date.parse(previous.expiresAt) > now.getTime()) secrets.push(previous.secret);
  return secrets;
}

export function webhookHeaders(secrets: string[], id: string, body: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'webhook-delivery/0.1',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => signWebhook(secret, id, timestamp, body)).join(' '),
  };
}
