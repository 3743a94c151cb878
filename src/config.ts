import { z } from 'zod';
import { parseDuration } from './domain/duration';
import { HEX_COLOUR } from './domain/portal-sessions';
import { parseRetrySchedule } from './domain/schedule';
import { parsePayloadKeys } from './lib/payload-codec';
import type { Environment } from './domain/schemas';

/** A ring of AES-256 keys, `id1:base64,id2:base64`: the first encrypts, any decrypts. */
const keyRing = () =>
  z
    .string()
    .optional()
    .transform((text, ctx) => {
      try {
        return text ? parsePayloadKeys(text) : [];
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

/** A resubmitted id starts nothing for this long after its document's workflow ended (Temporal's retention). */
export const DEFAULT_IDEMPOTENCY_WINDOW = '30d';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseDuration(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

const schedule = z
  .string()
  .default('rejected-information')
  .transform((text, ctx) => {
    try {
      parseRetrySchedule(text);
      return text;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback)
    .transform((v) => ['true', '1', 'yes'].includes(v));
const bool = flag('false');

const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // `npm start` only: where the local stack puts its servers and data, so two stacks can run side by side. The API,
  // worker and S3 ports are PORT, WORKER_METRICS_PORT and S3_ENDPOINT's.
  TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(1025),
  DATA_DIR: z.string().min(1).default('.data'),
  /** The worker's GET /metrics listener (the API serves its own on PORT); 0 turns it off. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Required by the API; the local stack's well-known value is refused unless LOCAL_STACK says this is one. */
  ADMIN_API_KEY: z.string().min(16, 'ADMIN_API_KEY must be at least 16 characters').optional(),
  /** Set by `npm start`: this is a developer's machine, where the well-known operator key is allowed. */
  LOCAL_STACK: bool,
  /**
   * `id1:base64,id2:base64` (32-byte keys): every payload Temporal stores is encrypted with the first, decrypted with
   * any. The worker and the API refuse to start without one; `npm start` makes one in `.data/` on first run.
   */
  PAYLOAD_KEYS: keyRing(),
  /**
   * `id1:base64,...` like PAYLOAD_KEYS, but other keys: customers' signing secrets and header values are sealed with
   * the first before they reach Temporal, so the payload codec (and whoever decodes through it in the Web UI) never opens them
   * (docs/architecture.md, "Secrets"). The worker and the API refuse to start without one; `npm start` makes one in
   * `.data/`.
   */
  SECRET_KEYS: keyRing(),
  /**
   * The Temporal Web UI origins allowed to call the codec endpoint from the browser (CORS), comma-separated: a UI is
   * opened at `localhost` or at `127.0.0.1`, and the browser calls from whichever it was.
   */
  CODEC_UI_ORIGINS: z
    .string()
    .default('http://localhost:8233,http://127.0.0.1:8233')
    .transform((text) =>
      text
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
  TEMPORAL_ADDRESS: z.string().default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  /**
   * How the API, the worker and the setup command reach a Temporal cluster that is not on a private network: TLS (on
   * by itself with a client certificate or an API key), mutual TLS from PEM files (a Kubernetes secret mounted as
   * files), a CA for a private one, and an API key (Temporal Cloud) sent with every call.
   */
  TEMPORAL_TLS: bool,
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TASK_QUEUE: z.string().default('webhook-delivery'),
  S3_ENDPOINT: z.string().url().default('http://localhost:7070'),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().default('local-access-key'),
  S3_SECRET_ACCESS_KEY: z.string().default('local-secret-key'),
  BUCKET_SANDBOX: z.string().default('documents-sandbox'),
  BUCKET_PRODUCTION: z.string().default('documents-production'),
  RETRY_SCHEDULE_SANDBOX: schedule,
  RETRY_SCHEDULE_PRODUCTION: schedule,
  RETENTION_SANDBOX: duration('3d'),
  RETENTION_PRODUCTION: duration('10d'),
  /** How long expired documents stay in the cold store for an operator restore. */
  COLD_RETENTION: duration('90d'),
  /** At most a minute: the attempt activity's own timeout (2 minutes) must cover it. */
  DELIVERY_TIMEOUT: duration('15s').refine(
    (ms) => ms > 0 && ms <= 60_000,
    'DELIVERY_TIMEOUT must be between 1ms and 60s',
  ),
  /**
   * Requests in flight to one endpoint at most, over every worker process (each takes its part: the limit divided by
   * the workers polling the task queue), unless the endpoint sets `maxInFlight`. More wait on a timer, holding no slot.
   */
  ENDPOINT_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1000).default(10),
  /** A URL's circuit breaker opens after this many failures (no answer, 5xx, 408, 429) within BREAKER_WINDOW... */
  BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  BREAKER_WINDOW: duration('30s'),
  /** ...stays open this long, then lets one trial request through; a failed trial doubles it, up to the maximum. */
  BREAKER_COOLDOWN: duration('30s'),
  BREAKER_MAX_COOLDOWN: duration('10m'),
  SMTP_URL: z.string().default('smtp://localhost:1025'),
  MAIL_FROM: z.string().default('Webhooks <webhooks@localhost>'),
  ALLOW_PRIVATE_URLS: bool,
  /** Where customers reach the API and its webhook page; used in emails and portal links. */
  PUBLIC_URL: z.string().url().optional(),
  /**
   * Signs portal links and sessions (32+ characters, the same in every API process). Unset, keys are derived from
   * SECRET_KEYS (src/lib/portal-tokens.ts).
   */
  PORTAL_SIGNING_KEY: z.string().min(32, 'PORTAL_SIGNING_KEY must be at least 32 characters').optional(),
  /**
   * The platform's origins that may show the portal in a frame, space-separated (`https://app.example.com`); unset,
   * no page may frame it.
   */
  PORTAL_FRAME_ANCESTORS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const origins = text.split(/[\s,]+/).filter(Boolean);
      for (const origin of origins) {
        let parsed: URL | undefined;
        try {
          parsed = new URL(origin);
        } catch {
          // Reported below.
        }
        if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
          ctx.addIssue({ code: 'custom', message: `${origin} is not an origin (scheme://host[:port])` });
          return z.NEVER;
        }
      }
      return origins.map((origin) => new URL(origin).origin);
    }),
  /** The portal's look, unless a session's `branding` says otherwise. */
  PORTAL_BRAND_NAME: z.string().min(1).max(80).default('Webhooks'),
  PORTAL_LOGO_URL: z.string().url().startsWith('https://', 'PORTAL_LOGO_URL must be an https URL').optional(),
  PORTAL_ACCENT_COLOR: z.string().regex(HEX_COLOUR, 'PORTAL_ACCENT_COLOR must be #rrggbb').default('#2657d9'),
  PORTAL_THEME: z.enum(['light', 'dark', 'auto']).default('auto'),
  /** How many pending documents a reactivated endpoint receives at once. */
  REPLAY_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
  /** How many pending documents replay reads from the bucket at a time; the entity holds no more than this. */
  REPLAY_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /**
   * A suspended endpoint is probed on its retry schedule, but never more often than this: a `1s` schedule is for
   * retries, and probing a dead endpoint every second for days sends it 86,400 requests a day for nothing.
   */
  PROBE_MIN_INTERVAL: duration('1m'),
  /** Documents entering the bucket within this window share one notification. */
  NOTIFICATION_WINDOW: duration('1m'),
  /**
   * How long an API process trusts the event-type catalog it read (a submit then reads nothing). A type it does not
   * know is looked up again at once, so a new type is usable at once; a schema or archive change takes this long.
   */
  EVENT_TYPES_CACHE: duration('5s'),
  /**
   * How long one write of a pending document may take (S3's own retries included) before the attempt gives up and
   * the next one writes under a new key time. So an object is in the bucket at most this long after the time in its
   * key, and positions (notifications, reminders, listing cursors) that stop short of keys younger than it plus
   * CLOCK_SKEW never pass over a document still being written.
   */
  PENDING_PUT_TIMEOUT: duration('10s').refine(
    (ms) => ms <= 30_000,
    'PENDING_PUT_TIMEOUT must be 30s or less (the write activity has a minute)',
  ),
  /** How far the clocks of the workers and APIs may disagree. */
  CLOCK_SKEW: duration('5s'),
  /** A reminder notification goes this long before pending documents expire (batched like the others). */
  NOTIFICATION_REMINDER: duration('24h'),
  /** Operational webhooks for the platform operator (docs/operations.md, "Operator events"); off without a URL. */
  OPERATOR_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  OPERATOR_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+=*$/, 'a whsec_ secret (whsec_ and base64)')
    .optional(),
  /** After a secret rotation, how long deliveries and notifications are signed with the old secret too. */
  SECRET_ROTATION_GRACE: duration('24h'),
  /**
   * How long the same document id again starts nothing (answers the document as it is): the retention of the
   * Temporal namespace, which keeps a closed document's workflow this long after it ended. The stacks create the
   * namespace with it; past it, the id is free and a resubmit delivers anew.
   */
  IDEMPOTENCY_WINDOW: duration(DEFAULT_IDEMPOTENCY_WINDOW),
  /** An endpoint entity continues as new past this many history events, well before Temporal's limits. */
  ENDPOINT_RUN_MAX_EVENTS: z.coerce.number().int().min(50).max(40_000).default(2_000),
  /**
   * ...or once it has handed out this many rate-limit slots (an Update each; Temporal allows 2,000 per run). Slots
   * asked for past it are refused, nothing entering the history, and the attempt asks the next run a second later.
   */
  ENDPOINT_RUN_MAX_SLOTS: z.coerce.number().int().min(10).max(1_500).default(1_000),
  /**
   * A rate-limit slot at most this far off is waited for inside the attempt; a later one on a durable timer (the
   * workflow wakes 2 s before it, or this long if shorter). 0: every wait is a timer, as the time-skipping tests want.
   */
  RATE_LIMIT_INLINE_WAIT: duration('3s').refine((ms) => ms <= 10_000, 'RATE_LIMIT_INLINE_WAIT must be 10s or less'),
  /** How often the cold-store sweep (a Temporal Schedule) removes copies past COLD_RETENTION, for S3 servers without lifecycle rules. */
  COLD_SWEEP_INTERVAL: duration('1h'),
  /** A request whose headers and body have not all arrived by then is answered 408 and its connection closed. */
  REQUEST_TIMEOUT: duration('10s'),
  // Worker tuning (docs/benchmark.md). The cache bound comes from the bench's open-document figures; concurrency
  // and the V8 context are the SDK's defaults, which the bench has not yet shown a reason to change.
  /**
   * Workflows the worker keeps in memory between tasks (~170 KiB each). Past it the least recently used is evicted and
   * replays its (short) history when it next wakes, so open documents waiting in the bucket cost no memory.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(2).max(100_000).default(500),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(100),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(1_000).default(40),
  /** First attempts run as local activities: each holds one of these (and its workflow task's slot) while it waits. */
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(100),
  /** One V8 context shared by all workflows (the SDK's default): far less memory and CPU per workflow. */
  WORKER_REUSE_V8_CONTEXT: flag('true'),
  /**
   * The API process also runs a worker and starts documents with eager start: the server hands the first workflow
   * task back in the start's answer, so a first-attempt delivery needs no task-queue poll.
   */
  API_EMBEDDED_WORKER: flag('false'),
  /**
   * The largest request body the API takes (a document with its envelope). Past CLAIM_CHECK_BYTES a document is stored
   * once at submit and travels by key, so this is bounded by what a receiver and S3 take, not by Temporal's message
   * limits: 1 MiB by default (Svix takes 350 KB), tested at the 5 MiB the setting allows.
   */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .max(5 * 1024 * 1024)
    .default(1024 * 1024),
  /**
   * A document whose body is larger than this is stored once at submit in its environment's bucket (a claim check,
   * bucket/bodies.ts) and every workflow, child, activity and Update carries its key: so one engine message holds at
   * most MAX_ENDPOINTS times this much document (20 x 64 KiB = 1.25 MiB, the parent's start of its other deliveries),
   * under Temporal's 2 MB payload and 4 MB gRPC limits whatever the document's size.
   */
  CLAIM_CHECK_BYTES: z.coerce
    .number()
    .int()
    .min(512)
    .max(64 * 1024)
    .default(64 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Where traces go, by OTLP over HTTP (a collector, Jaeger, any OTLP receiver: `/v1/traces` is appended). Unset: no
   * tracing code is loaded at all (docs/operations.md, "Traces").
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** The service name the spans carry (default: webhook-api for the API, webhook-worker for the worker). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
});

type RawConfig = z.infer<typeof ConfigSchema>;

export interface Config extends RawConfig {
  publicUrl: string;
  buckets: Record<Environment, string>;
  retrySchedules: Record<Environment, string>;
  retentionMs: Record<Environment, number>;
  /** A key younger than this may still have documents being written before it (PENDING_PUT_TIMEOUT). */
  settleMs: number;
}

/** The operator key `npm start` uses; anywhere else it would be a password everyone knows. */
export const LOCAL_ADMIN_API_KEY = 'local-admin-key-change-me';

/** The operator key the API runs with, or an error that says why it cannot start. */
export function operatorKey(config: Pick<Config, 'ADMIN_API_KEY' | 'LOCAL_STACK'>): string {
  if (!config.ADMIN_API_KEY)
    throw new Error('ADMIN_API_KEY is not set: the API needs an operator key (16+ characters)');
  if (config.ADMIN_API_KEY === LOCAL_ADMIN_API_KEY && !config.LOCAL_STACK) {
    throw new Error(`ADMIN_API_KEY is the local stack's well-known key (${LOCAL_ADMIN_API_KEY}): set your own`);
  }
  return config.ADMIN_API_KEY;
}

/** The payload keys a worker or API process runs with, or an error that says why it cannot start. */
export function requirePayloadKeys(config: Pick<Config, 'PAYLOAD_KEYS'>) {
  if (config.PAYLOAD_KEYS.length === 0) {
    throw new Error(
      'PAYLOAD_KEYS is not set: Temporal would store secrets in plaintext (see docs/architecture.md, "Secrets")',
    );
  }
  return config.PAYLOAD_KEYS;
}

/** The only reader of `process.env`: everything else receives a Config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  const raw = parsed.data;
  if (!raw.TEMPORAL_TLS_CERT_FILE !== !raw.TEMPORAL_TLS_KEY_FILE) {
    throw new Error('invalid configuration: TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together (mutual TLS)');
  }
  if (raw.OPERATOR_WEBHOOK_URL && !raw.OPERATOR_WEBHOOK_SECRET) {
    throw new Error('invalid configuration: OPERATOR_WEBHOOK_SECRET: required with OPERATOR_WEBHOOK_URL');
  }
  return {
    ...raw,
    publicUrl: raw.PUBLIC_URL ?? `http://localhost:${raw.PORT}`,
    buckets: { sandbox: raw.BUCKET_SANDBOX, production: raw.BUCKET_PRODUCTION },
    retrySchedules: { sandbox: raw.RETRY_SCHEDULE_SANDBOX, production: raw.RETRY_SCHEDULE_PRODUCTION },
    retentionMs: { sandbox: raw.RETENTION_SANDBOX, production: raw.RETENTION_PRODUCTION },
    settleMs: raw.PENDING_PUT_TIMEOUT + raw.CLOCK_SKEW,
  };
}

/** Loads an optional `.env` in the working directory before parsing, for `npm start` and the worker/API scripts. */
export function loadConfigFromProcess(): Config {
  loadEnvFile();
  return loadConfig(process.env);
}

/** Reads `.env` into `process.env` once; variables already set win. */
export function loadEnvFile(): void {
  try {
    process.loadEnvFile?.();
  } catch {
    // No .env file: defaults and the real environment apply.
  }
}
