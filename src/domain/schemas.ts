import { z } from 'zod';
import { ENVIRONMENTS, type Environment } from './environments';
import { MAX_HEADERS } from './headers';
import { MAX_CUSTOMER_AND_DOCUMENT_ID_LENGTH, MAX_ENDPOINT_ID_LENGTH, MAX_ID_LENGTH, maxDocumentIdLength } from './ids';
import { parseRetrySchedule, RETRY_PRESETS } from './schedule';

export { ENVIRONMENTS, type Environment };
export const EnvironmentSchema = z.enum(ENVIRONMENTS);

// Ids become parts of workflow ids and S3 keys, so they exclude ':' and '/' (the separators of both), and their lengths
// are part of the engine's id budget (domain/ids.ts).
export const IdSchema = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only, starting with a letter or digit');

export const DocumentTypeSchema = z.enum(['event', 'summary']);
export type DocumentType = z.infer<typeof DocumentTypeSchema>;

/** `routed`: the customer's first endpoint takes none of the document, its other endpoints do (see `endpoints`). */
export const DocumentStatusSchema = z.enum([
  'sending',
  'retrying',
  'delivered',
  'pending',
  'acknowledged',
  'expired',
  'routed',
]);
export type DocumentStatus = z.infer<typeof DocumentStatusSchema>;

export const CreateCustomerSchema = z.strictObject({ id: IdSchema, name: z.string().min(1).max(200) });
export type CreateCustomer = z.infer<typeof CreateCustomerSchema>;

/** Deeper than this, `data` is refused: it is the customer's JSON, not a recursion test for every parser after us. */
const MAX_DATA_DEPTH = 64;

/** How deep a parsed JSON value nests, counted without recursion (a hostile value cannot overflow the stack). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_DATA_DEPTH) return deepest;
    if (node && typeof node === 'object') for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Any JSON value up to MAX_DATA_DEPTH deep (the body parser already made it JSON). */
const DocumentDataSchema = z
  .custom<z.core.util.JSONType>((value) => value !== undefined, 'is required')
  .superRefine((value, ctx) => {
    if (depthOf(value) > MAX_DATA_DEPTH) {
      ctx.addIssue({ code: 'custom', message: `nests deeper than ${MAX_DATA_DEPTH} levels` });
    }
  })
  .meta({ description: `Any JSON value, up to ${MAX_DATA_DEPTH} levels deep` });

/** Dot-separated segments of letters, digits, "_" and "-": `shipment.delivered`, `invoice.daily-summary`. */
/** A customer's endpoint: `ep_default` is the webhook, the first; others are `ep_` and 24 hex digits. */
export const EndpointIdSchema = z
  .string()
  .regex(
    new RegExp(`^ep_[A-Za-z0-9]{1,${MAX_ENDPOINT_ID_LENGTH - 'ep_'.length}}$`),
    'an endpoint id: ep_ and letters or digits',
  )
  .meta({ example: 'ep_default' });

export const EventTypeNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)*$/,
    'dot-separated segments of letters, digits, "_" and "-", like shipment.delivered',
  );

export const SubmitDocumentSchema = z
  .strictObject({
    customerId: IdSchema,
    id: IdSchema.meta({
      description: `At most ${MAX_ID_LENGTH} characters, and ${MAX_CUSTOMER_AND_DOCUMENT_ID_LENGTH} with the customer id`,
    }),
    type: DocumentTypeSchema,
    /** A type from the operator's catalog (GET /v1/event-types): its kind must be `type`, `data` must satisfy its schema. */
    eventType: EventTypeNameSchema.optional(),
    data: DocumentDataSchema,
  })
  // Its delivery ids hold both ids and must fit the engine's id budget: refused here, not by a start that fails.
  .superRefine(({ customerId, id }, ctx) => {
    const max = maxDocumentIdLength(customerId);
    if (id.length > max) {
      ctx.addIssue({
        code: 'too_big',
        origin: 'string',
        maximum: max,
        inclusive: true,
        path: ['id'],
        message: `at most ${max} characters for this customer: its id and a document id have at most ${MAX_CUSTOMER_AND_DOCUMENT_ID_LENGTH} together`,
      });
    }
  });
export type SubmitDocument = z.infer<typeof SubmitDocumentSchema>;

/**
 * What a document workflow is started with; `createdAt` is stamped by the API when it is first submitted. A large
 * document travels by `bodyKey` (bucket/bodies.ts) without its `data`.
 */
export type DocumentInput = Omit<SubmitDocument, 'data'> & {
  data?: SubmitDocument['data'];
  /** Where a document larger than CLAIM_CHECK_BYTES is stored, once, at submit: its workflows carry this, not `data`. */
  bodyKey?: string;
  environment: Environment;
  createdAt: string;
  /** Set by an operator restore: the cold-store key to bring back as pending, without attempting delivery first. */
  restoredFrom?: string;
  /** The endpoint this workflow delivers to, when it is not the customer's first (domain/ids.ts). */
  endpointId?: string;
  /** To this endpoint only, whatever the routes say: an endpoint's test event. */
  single?: boolean;
  /**
   * A resend of a delivery that had ended (delivered, acknowledged, or never made): its last state, whose attempts the
   * new run goes on from. The run attempts once, at once, and keeps the document pending when that fails.
   */
  resendOf?: DocumentState;
};

const DURATION_PATTERN = '\\d+(\\.\\d+)?(ms|s|m|h|d)';
/** What `parseRetrySchedule` reads, for the OpenAPI document: a preset's name or intervals, comma separated. */
const SCHEDULE_PATTERN = `^\\s*(${Object.keys(RETRY_PRESETS).join('|')}|${DURATION_PATTERN}(\\s*,\\s*${DURATION_PATTERN})*)\\s*$`;

const RetryScheduleSchema = z
  .string()
  .max(1000)
  .superRefine((text, ctx) => {
    try {
      parseRetrySchedule(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  })
  // For the OpenAPI document: what parseRetrySchedule reads, as far as a pattern can say it (one message when not).
  .meta({ minLength: 1, pattern: SCHEDULE_PATTERN });

/** Why a text is not a webhook URL we would call, or undefined when it is one. Never throws. */
function httpUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (!url.hostname) return 'must name a host';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.port === '0') return 'must not use port 0';
  return undefined;
}

const HttpUrlSchema = z
  .string()
  .max(2048)
  .superRefine((text, ctx) => {
    const problem = httpUrlProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  // For the OpenAPI document: what httpUrlProblem checks, as far as a pattern can say it (one message when not).
  .meta({ format: 'uri', minLength: 1, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^/@]+' });

// RFC 5321: 64 characters before the @, 254 in all.
const EmailSchema = z
  .email()
  .max(254)
  .refine((email) => email.split('@')[0].length <= 64, 'the part before the @ is at most 64 characters');

/** Headers a request must not carry from a customer: hop-by-hop, framing, or ours (the signature above all). */
const RESERVED_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-type',
  'content-encoding',
  'expect',
  'user-agent',
]);
const HeaderNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'a header name (RFC 9110 token, at most 64 characters)')
  .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'is a hop-by-hop or reserved header')
  .refine((name) => !name.toLowerCase().startsWith('webhook-'), "webhook-* headers are the signature's");
const HeaderValueSchema = z
  .string()
  .max(1024)
  .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'printable, no line breaks');
/** At most MAX_HEADERS headers, no name twice in any case. */
const headerRecord = <V extends z.ZodType>(value: V) =>
  z
    .record(HeaderNameSchema, value)
    .refine((headers) => Object.keys(headers).length <= MAX_HEADERS, `at most ${MAX_HEADERS} headers`)
    .refine(
      (headers) => new Set(Object.keys(headers).map((h) => h.toLowerCase())).size === Object.keys(headers).length,
      'a header named twice (names are case-insensitive)',
    );
/**
 * Sent with every delivery to the endpoint: a few static values, e.g. a token the receiver's gateway checks. Their
 * values are sealed before they reach Temporal and never shown again (the API shows the names).
 */
const WebhookHeadersSchema = headerRecord(HeaderValueSchema);
/** A PATCH of headers: a value sets one (replacing it whatever its case), null removes one, the others stay. */
const PatchHeadersSchema = headerRecord(HeaderValueSchema.nullable());

/** The most requests in flight an endpoint may ask for (its share of the workers' sending capacity). */
const MAX_IN_FLIGHT = 100;

export const PutWebhookSchema = z.strictObject({
  url: HttpUrlSchema,
  notificationUrl: HttpUrlSchema.nullish(),
  suspensionEmail: EmailSchema.nullish(),
  retrySchedule: RetryScheduleSchema.nullish(),
  /** Deliveries per second at most, on every path (first attempts, retries, probes, replays); none: no limit. */
  rateLimit: z.number().int().min(1).max(1000).nullish(),
  /**
   * Requests in flight to the endpoint at most, over every worker (deliveries and notifications together); none: the
   * platform's default, ENDPOINT_MAX_IN_FLIGHT.
   */
  maxInFlight: z.number().int().min(1).max(MAX_IN_FLIGHT).nullish(),
  /** Absent: the endpoint keeps the headers it has (their values are never shown, so a client cannot send them back). */
  headers: WebhookHeadersSchema.nullish(),
});
export type PutWebhook = z.infer<typeof PutWebhookSchema>;

export const AttemptSchema = z.object({
  attemptNumber: z.number().int().positive(),
  at: z.string(),
  /**
   * What caused it: `scheduled` (the first attempt and the retry schedule), `probe` (a suspended endpoint's probe),
   * `replay` (after a reactivation), `resend` (asked for by the customer). Records from before these were told apart
   * say `manual` for a replay or a resend, and `scheduled` for a probe.
   */
  trigger: z.enum(['scheduled', 'probe', 'replay', 'resend', 'manual']),
  url: z.string().optional(),
  responseStatusCode: z.number().int().optional(),
  error: z.string().optional(),
  responseDurationMs: z.number().int(),
  /** The receiver's answer: its first 2 KB (as UTF-8 text) and its content type, for the attempt log. */
  responseBody: z.string().max(2048).optional(),
  responseContentType: z.string().max(200).optional(),
  /**
   * Not sent, and the schedule went on: `breaker_open`, the endpoint had failed repeatedly just before (its circuit
   * breaker was open); `share_full`, its requests in flight stayed at their limit.
   */
  skipped: z.enum(['breaker_open', 'share_full']).optional(),
});
export type Attempt = z.infer<typeof AttemptSchema>;

/** The state a document workflow answers to its status query. */
export interface DocumentState {
  id: string;
  customerId: string;
  environment: Environment;
  type: DocumentType;
  eventType?: string;
  createdAt: string;
  status: DocumentStatus;
  /** The first and the last attempts (domain/attempt-log.ts bounds them); `attemptCount` counts them all. */
  attempts: Attempt[];
  attemptCount?: number;
  /** Attempts between the first and the last that are no longer listed. */
  attemptsOmitted?: number;
  nextAttemptAt?: string;
  retriesExhaustedAt?: string;
  pendingSince?: string;
  expiresAt?: string;
  objectKey?: string;
  /** Where an expired document is kept for an operator restore. */
  coldObjectKey?: string;
  restoredAt?: string;
  /** The customer's other endpoints it went to, each delivered by its own workflow (`…:{endpointId}`). */
  endpoints?: string[];
  /** Runs a resend started after this delivery had ended (src/api/service/resend.ts bounds them). */
  resentRuns?: number;
}

/** The endpoint as the entity workflow holds it; `secret` and `apiKeyHash` never leave the server. */
export interface EndpointState {
  customerId: string;
  /** Absent for the customer's first endpoint (whose entity holds the API key); the id of any other. */
  endpointId?: string;
  /** The first endpoint's: which documents it gets (absent: every one). Other endpoints' routes are in `endpoints`. */
  route?: EndpointRouteState;
  /**
   * The first endpoint's entity only: the customer's other endpoints in this environment and their routes, what a
   * document's first attempt reads to know where else it goes (at most 19, each route bounded: a few KB in all).
   */
  endpoints?: RegisteredEndpoint[];
  /**
   * The first endpoint's entity only: endpoints deleted whose documents are not settled yet (their entities still run
   * until their bucket prefixes are empty). The customer-wide pending routes still read their prefixes. At most
   * MAX_ENDPOINTS, the oldest forgotten first.
   */
  deletedEndpoints?: DeletedEndpoint[];
  customerName: string;
  environment: Environment;
  apiKeyHash: string;
  url?: string;
  notificationUrl?: string;
  suspensionEmail?: string;
  /** A preset name or intervals; absent means the environment's default. */
  retrySchedule?: string;
  /** Deliveries per second at most (the entity hands out the slots); absent: no limit. */
  rateLimit?: number;
  /** Requests in flight at most over every worker; absent: ENDPOINT_MAX_IN_FLIGHT. */
  maxInFlight?: number;
  /** Sent with every delivery; each value sealed (`sealed:v1:...`), or in the clear in an entity from before. */
  headers?: Record<string, string>;
  secret?: string;
  /** After a rotation: the secret that still signs beside `secret` until `expiresAt` (the entity then drops it). */
  previousSecret?: { secret: string; expiresAt: string };
  /** `deleted`: nothing is sent for it any more; its entity ends once its documents are settled. */
  status: 'active' | 'suspended' | 'deleted';
  /** When the endpoint was deleted (with status `deleted`). */
  deletedAt?: string;
  /** `failing`: suspended by exhausted retries or 410, probed until it recovers; `manual`: the customer turned it off. */
  suspension?: { kind: 'failing' | 'manual'; at: string; reason: string };
  lastError?: string;
  preferences: Preferences;
  /** Since the entity began. Entities created before issue 19 also carry a `consecutiveExhausted` that nothing reads. */
  counters: { retriesExhausted: number; suspensions: number };
  /**
   * Documents entered the bucket and a notification cycle will read it: documents arriving meanwhile need not say so.
   * This keeps a burst of thousands of documents from each signalling the entity.
   */
  arrivalsAnnounced?: boolean;
  updatedAt: string;
}

/** Which documents an endpoint gets (src/domain/endpoints.ts routeMatches). */
export interface EndpointRouteState {
  description?: string;
  filterTypes?: string[];
  kinds?: DocumentType[];
}

export interface RegisteredEndpoint {
  id: string;
  createdAt: string;
  route: EndpointRouteState;
}

/** An endpoint the customer deleted, listed by the first endpoint's entity until its documents are settled. */
export interface DeletedEndpoint {
  id: string;
  deletedAt: string;
}

export const PreferencesSchema = z.strictObject({ pendingNotifications: z.boolean() });
export type Preferences = z.infer<typeof PreferencesSchema>;

export const ListPendingQuerySchema = z.object({
  type: DocumentTypeSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  // A customer with several endpoints pages with a position per endpoint: up to 20 key tails.
  cursor: z.string().max(8192).optional(),
});

export const ResendManySchema = z.strictObject({ ids: z.array(IdSchema).min(1).max(1000).optional() });

export const RestoreSchema = z.strictObject({
  /** Another endpoint's expired documents (its own cold store); absent or `ep_default`: the webhook's. */
  endpointId: EndpointIdSchema.optional(),
  ids: z.array(IdSchema).min(1).max(1000).optional(),
  since: z.iso.datetime().optional(),
  /** Documents to bring back at most (10,000, like Svix's recovery); another restore brings the rest. */
  limit: z.number().int().min(1).max(10_000).optional(),
});

/** The fields of an endpoint a PATCH changes on their own: whether it is on, and some of its headers. */
export const PatchWebhookFields = {
  active: z.boolean().optional(),
  headers: PatchHeadersSchema.optional(),
};
export const PatchWebhookSchema = z
  .strictObject(PatchWebhookFields)
  .refine((patch) => patch.active !== undefined || patch.headers !== undefined, 'name at least one of active, headers');
export type PatchWebhook = z.infer<typeof PatchWebhookSchema>;

/** A document waiting in the bucket, as its key describes it (see pendingObjectKey) and the pending list shows it. */
export interface PendingEntry {
  id: string;
  type: DocumentType;
  createdAt: string;
  pendingSince: string;
  expiresAt: string;
}
