import { z } from 'zod';
import { parseRetrySchedule } from './schedule';

export const EnvironmentSchema = z.enum(['sandbox', 'production']);
export type Environment = z.infer<typeof EnvironmentSchema>;
export const ENVIRONMENTS: readonly Environment[] = EnvironmentSchema.options;

// Ids become parts of workflow ids and S3 keys, so they exclude ':' and '/' (the separators of both).
export const IdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only, starting with a letter or digit');

export const DocumentTypeSchema = z.enum(['event', 'summary']);
export type DocumentType = z.infer<typeof DocumentTypeSchema>;

export const DocumentStatusSchema = z.enum(['sending', 'retrying', 'delivered', 'pending', 'acknowledged', 'expired']);
export type DocumentStatus = z.infer<typeof DocumentStatusSchema>;

export const CreateCustomerSchema = z.object({ id: IdSchema, name: z.string().min(1).max(200) });
export type CreateCustomer = z.infer<typeof CreateCustomerSchema>;

export const SubmitDocumentSchema = z.object({
  customerId: IdSchema,
  id: IdSchema,
  type: DocumentTypeSchema,
  data: z.json(),
});
export type SubmitDocument = z.infer<typeof SubmitDocumentSchema>;

/** What a document workflow is started with; `createdAt` is stamped by the API when it is first submitted. */
export type DocumentInput = SubmitDocument & {
  environment: Environment;
  createdAt: string;
  /** Set by an operator restore: the cold-store key to bring back as pending, without attempting delivery first. */
  restoredFrom?: string;
};

export const RetryScheduleSchema = z.string().superRefine((text, ctx) => {
  try {
    parseRetrySchedule(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const HttpUrlSchema = z
  .string()
  .max(2048)
  .url()
  .refine((url) => /^https?:$/.test(new URL(url).protocol), 'must be an http or https URL');

export const PutWebhookSchema = z.object({
  url: HttpUrlSchema,
  notificationUrl: HttpUrlSchema.nullish(),
  suspensionEmail: z.string().email().nullish(),
  retrySchedule: RetryScheduleSchema.nullish(),
});
export type PutWebhook = z.infer<typeof PutWebhookSchema>;

export const AttemptSchema = z.object({
  attemptNumber: z.number().int().positive(),
  at: z.string(),
  trigger: z.enum(['scheduled', 'manual']),
  url: z.string().optional(),
  responseStatusCode: z.number().int().optional(),
  error: z.string().optional(),
  responseDurationMs: z.number().int(),
});
export type Attempt = z.infer<typeof AttemptSchema>;

/** The state a document workflow answers to its status query. */
export interface DocumentState {
  id: string;
  customerId: string;
  environment: Environment;
  type: DocumentType;
  createdAt: string;
  status: DocumentStatus;
  attempts: Attempt[];
  nextAttemptAt?: string;
  retriesExhaustedAt?: string;
  pendingSince?: string;
  expiresAt?: string;
  objectKey?: string;
  /** Where an expired document is kept for an operator restore. */
  coldObjectKey?: string;
  restoredAt?: string;
}

/** The endpoint as the entity workflow holds it; `secret` and `apiKeyHash` never leave the server. */
export interface EndpointState {
  customerId: string;
  customerName: string;
  environment: Environment;
  apiKeyHash: string;
  url?: string;
  notificationUrl?: string;
  suspensionEmail?: string;
  /** A preset name or intervals; absent means the environment's default. */
  retrySchedule?: string;
  secret?: string;
  status: 'active' | 'suspended';
  /** `failing`: suspended by exhausted retries or 410, probed until it recovers; `manual`: the customer turned it off. */
  suspension?: { kind: 'failing' | 'manual'; at: string; reason: string };
  lastError?: string;
  preferences: Preferences;
  counters: { retriesExhausted: number; suspensions: number; consecutiveExhausted: number };
  /**
   * Documents entered the bucket and a notification cycle will read it: documents arriving meanwhile need not say so.
   * This keeps a burst of thousands of documents from each signalling the entity.
   */
  arrivalsAnnounced?: boolean;
  updatedAt: string;
}

export const PreferencesSchema = z.object({ pendingNotifications: z.boolean() });
export type Preferences = z.infer<typeof PreferencesSchema>;

export const ListPendingQuerySchema = z.object({
  type: DocumentTypeSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(512).optional(),
});

export const ResendManySchema = z.object({ ids: z.array(IdSchema).min(1).max(1000).optional() });

export const RestoreSchema = z.object({
  ids: z.array(IdSchema).min(1).max(1000).optional(),
  since: z.iso.datetime().optional(),
});

export const PatchWebhookSchema = z.object({ active: z.boolean() });

/** A document waiting in the bucket, as its key describes it (see pendingObjectKey) and the pending list shows it. */
export interface PendingEntry {
  id: string;
  type: DocumentType;
  createdAt: string;
  pendingSince: string;
  expiresAt: string;
}
