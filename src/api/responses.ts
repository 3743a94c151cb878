import { z } from 'zod';
import { ATTEMPT_LOG_FIRST, ATTEMPT_LOG_LAST } from '../domain/attempt-log';
import {
  AttemptSchema,
  DocumentStatusSchema,
  DocumentTypeSchema,
  EnvironmentSchema,
  PreferencesSchema,
} from '../domain/schemas';

// What the API responds, as zod schemas: the presenters are typed from them and the OpenAPI document is generated
// from them (src/api/openapi.ts), so the document cannot describe a field the code does not send. `.meta({ id })`
// makes each a named component of the document.

/** A JSON body of this schema, as an OpenAPI request body or response. */
export const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
/** A response of a route's declaration: its description, and the schema of its JSON body if it has one. */
export const response = (description: string, schema?: z.ZodType) =>
  schema ? { description, ...json(schema) } : { description };
/** A response that is a page of HTML. */
export const html = (description: string) => ({
  description,
  content: { 'text/html': { schema: { type: 'string' as const } } },
});

const Timestamp = z.iso
  .datetime({ offset: true })
  .meta({ description: 'ISO 8601 time', example: '2026-11-29T12:00:00.000Z' });

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_failed' }),
      message: z.string().meta({ example: 'body.url: must be an absolute http or https URL' }),
      details: z
        .array(z.object({ path: z.string(), message: z.string(), code: z.string() }))
        .optional()
        .meta({ description: 'For 400: one entry per wrong field, its path starting with body, query or params' }),
    }),
  })
  .meta({ id: 'Error' });

export const HealthResponse = z
  .object({ status: z.enum(['ok', 'unavailable']), error: ErrorResponse.shape.error.optional() })
  .meta({ id: 'Health' });

export const CustomerCreatedResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    apiKeys: z
      .object({ sandbox: z.string(), production: z.string() })
      .meta({ description: 'One key per environment, shown only in this answer (stored as hashes)' }),
  })
  .meta({ id: 'CustomerCreated' });

export const SubmitAcceptedResponse = z.object({ id: z.string(), status: DocumentStatusSchema }).meta({
  id: 'SubmitAccepted',
  description:
    'The same id again answers the same and delivers once, for as long as the idempotency window ' +
    '(IDEMPOTENCY_WINDOW, 30 days by default) after its document ended',
});

const AttemptResponse = AttemptSchema.omit({ url: true }).extend({ at: Timestamp }).meta({ id: 'Attempt' });

export const DocumentResponse = z
  .object({
    id: z.string(),
    type: DocumentTypeSchema,
    eventType: z.string().optional().meta({ description: "The catalog's event type the document names" }),
    status: DocumentStatusSchema,
    createdAt: Timestamp,
    attempts: z.array(AttemptResponse).meta({
      description: `The first ${ATTEMPT_LOG_FIRST} and the last ${ATTEMPT_LOG_LAST} attempts; attemptsOmitted counts those between`,
    }),
    attemptCount: z.number().int().min(0).meta({ description: 'Every attempt made, listed or not' }),
    attemptsOmitted: z.number().int().min(0),
    nextAttemptAt: Timestamp.optional(),
    pendingSince: Timestamp.optional(),
    expiresAt: Timestamp.optional(),
    endpoints: z
      .array(
        z.object({
          endpointId: z.string(),
          status: DocumentStatusSchema,
          attempts: z.array(AttemptResponse),
          attemptCount: z.number().int().min(0),
          nextAttemptAt: Timestamp.optional(),
          pendingSince: Timestamp.optional(),
          expiresAt: Timestamp.optional(),
        }),
      )
      .optional()
      .meta({
        description:
          "For a document that went to several of the customer's endpoints: each delivery, with its own status and " +
          "attempts. The top-level status and attempts are the first endpoint's (`routed` when it took none of it)",
      }),
  })
  .meta({ id: 'Document' });

export const WebhookResponse = z
  .object({
    url: z.string().nullable(),
    notificationUrl: z.string().nullable(),
    suspensionEmail: z.string().nullable(),
    status: z.enum(['active', 'suspended']),
    suspendedAt: Timestamp.optional(),
    suspensionReason: z.string().optional(),
    lastError: z.string().optional(),
    pendingCount: z.number().int().min(0),
    retrySchedule: z.string().meta({ example: '2h,22h,24h' }),
    rateLimit: z.number().int().nullable().meta({ description: 'Deliveries per second at most; null: no limit' }),
    maxInFlight: z.number().int().nullable().meta({
      description: "Requests in flight to the endpoint at most, over every worker; null: the platform's default",
    }),
    headerNames: z.array(z.string()).meta({
      description:
        'The custom headers sent with every delivery, by name: their values are sealed and never shown (set them with ' +
        'PUT, change or remove some with PATCH)',
      example: ['authorization'],
    }),
    secret: z
      .string()
      .regex(/^whsec_/)
      .optional()
      .meta({ description: 'Only in the answers to PUT and to a rotation: the signing secret (Standard Webhooks)' }),
    previousSecretExpiresAt: Timestamp.optional().meta({
      description: 'During a rotation: until when deliveries are signed with the previous secret too',
    }),
  })
  .meta({ id: 'Webhook' });

export const PreferencesResponse = PreferencesSchema.meta({ id: 'Preferences' });

const PendingEntryResponse = z
  .object({
    id: z.string(),
    type: DocumentTypeSchema,
    createdAt: Timestamp,
    pendingSince: Timestamp,
    expiresAt: Timestamp,
    endpointId: z
      .string()
      .optional()
      .meta({ description: 'In the customer-wide list of a customer with several endpoints: where it waits' }),
  })
  .meta({ id: 'PendingEntry' });

export const PendingListResponse = z
  .object({
    data: z.array(PendingEntryResponse),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last' }),
  })
  .meta({ id: 'PendingList' });

export const PendingDocumentResponse = z
  .object({
    id: z.string(),
    type: DocumentTypeSchema,
    createdAt: Timestamp,
    data: z.unknown().meta({ description: 'The document as submitted' }),
  })
  .meta({ id: 'PendingDocument' });

export const ResentResponse = z.object({ id: z.string(), status: z.literal('pending') }).meta({ id: 'Resent' });

export const ResentToEndpointResponse = z
  .object({
    id: z.string(),
    endpointId: z.string(),
    resent: z.enum(['pending', 'new_run']).meta({
      description:
        "`pending`: it waited in that endpoint's bucket and is attempted now; `new_run`: it had ended there (delivered, " +
        'acknowledged) or never went there, and a new run of its delivery attempts it now, pending there if that fails',
    }),
  })
  .meta({ id: 'ResentToEndpoint' });

export const ResentManyResponse = z
  .object({
    count: z.number().int().min(0),
    skipped: z.array(z.string()).meta({ description: 'Ids that were not pending' }),
  })
  .meta({ id: 'ResentMany' });

export const RestoreJobResponse = z
  .object({
    restoreId: z.string().meta({ example: 'rst_4f9c2b7e0d1a4c6b8e3f5a7d9c1b2e4f' }),
    environment: z.enum(['sandbox', 'production']),
    customerId: z.string(),
    endpointId: z.string().optional().meta({ description: "Another endpoint's cold store (absent: the webhook's)" }),
    status: z.enum(['running', 'completed']),
    requestedAt: z.string(),
    completedAt: z.string().optional(),
    pages: z.number().int().min(0).meta({ description: 'Pages of up to 100 documents done' }),
    restored: z.number().int().min(0).meta({ description: 'Documents back as pending so far' }),
    skipped: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'Candidates that could not be restored (pending again already, or gone)' }),
    after: z.string().optional().meta({ description: 'Where in the cold store the job has got to' }),
    more: z
      .boolean()
      .meta({ description: 'The cold store held more than the cap (10,000): another restore brings the rest' }),
  })
  .meta({ id: 'RestoreJob' });

export const CodecPayloadsResponse = z
  .object({
    payloads: z.array(
      z.object({ metadata: z.record(z.string(), z.string()), data: z.string().meta({ description: 'base64' }) }),
    ),
  })
  .meta({ id: 'CodecPayloads' });

export const EnvironmentParam = EnvironmentSchema.meta({ description: 'sandbox or production' });

export type WebhookResponse = z.infer<typeof WebhookResponse>;
export type DocumentResponse = z.infer<typeof DocumentResponse>;

export const EventTypeResponse = z
  .object({
    name: z.string().meta({ example: 'shipment.delivered' }),
    kind: DocumentTypeSchema,
    description: z.string().optional(),
    schema: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: 'The JSON Schema (draft 2020-12) the data of its documents satisfies' }),
    archived: z
      .boolean()
      .meta({ description: 'Retired: new documents may not name it; endpoints may still filter on it' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'EventType' });
export type EventTypeResponse = z.infer<typeof EventTypeResponse>;

export const EventTypeListResponse = z.object({ data: z.array(EventTypeResponse) }).meta({ id: 'EventTypeList' });

export const MessageLogResponse = z
  .object({
    data: z.array(
      z.object({
        id: z.string(),
        type: DocumentTypeSchema,
        eventType: z.string().optional(),
        status: DocumentStatusSchema,
        createdAt: Timestamp,
        endpoints: z
          .array(z.object({ endpointId: z.string(), status: DocumentStatusSchema }))
          .optional()
          .meta({
            description:
              "A document that went to other endpoints too (not with ?endpointId=): each delivery's status, the " +
              "first endpoint's first unless it took none of it (status routed)",
          }),
      }),
    ),
    nextCursor: z.string().optional().meta({ description: 'Absent on the last page' }),
  })
  .meta({
    id: 'MessageLog',
    description:
      "Newest first, from Temporal's visibility: a second or so behind the documents themselves, and for as long " +
      'as the namespace keeps closed workflows (IDEMPOTENCY_WINDOW, 30 days by default)',
  });

export const EndpointResponse = WebhookResponse.extend({
  id: z.string().meta({ example: 'ep_default', description: 'ep_default is the first endpoint: the webhook' }),
  description: z.string().nullable(),
  filterTypes: z
    .array(z.string())
    .nullable()
    .meta({ description: 'Event types (or family.*) it gets; null: every document' }),
  kinds: z.array(DocumentTypeSchema).nullable().meta({ description: 'Document types it gets; null: both' }),
  createdAt: Timestamp.optional(),
}).meta({ id: 'Endpoint' });
export type EndpointResponse = z.infer<typeof EndpointResponse>;

export const EndpointListResponse = z.object({ data: z.array(EndpointResponse) }).meta({ id: 'EndpointList' });

export const DeletedEndpointResponse = z
  .object({
    id: z.string(),
    deleted: z.literal(true),
    deletedAt: Timestamp,
    pendingCount: z
      .number()
      .int()
      .meta({
        description:
          'Documents that wait in its bucket prefix: listed, pulled and acknowledged through the customer-wide ' +
          '/v1/{env}/pending routes (each says this endpointId) until they expire; nothing is sent to it any more',
      }),
    expiresBy: Timestamp.nullable().meta({
      description: 'When the last of them expires (to the cold store); null when none waits',
    }),
  })
  .meta({ id: 'DeletedEndpoint' });

const StatsWindowResponse = z.object({
  sending: z.number().int(),
  retrying: z.number().int(),
  delivered: z.number().int(),
  pending: z.number().int(),
  acknowledged: z.number().int(),
  expired: z.number().int(),
  successRate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .meta({ description: 'Delivered over those that are over (delivered, pending, acknowledged, expired)' }),
});
export const EndpointStatsResponse = z
  .object({ endpointId: z.string(), '24h': StatsWindowResponse, '7d': StatsWindowResponse })
  .meta({
    id: 'EndpointStats',
    description: "The endpoint's deliveries of documents submitted in the window, by status, counted by visibility",
  });

export const TestEventResponse = z
  .object({
    id: z.string().meta({ example: 'test_4f1c2a9b0d3e5f67' }),
    endpointId: z.string(),
    status: z.literal('sending'),
  })
  .meta({ id: 'TestEvent' });

/** An endpoint as the support desk lists it, across customers. */
export const DeskEndpointListResponse = z
  .object({
    data: z.array(
      z.object({
        customerId: z.string(),
        endpointId: z.string(),
        url: z.string().nullable(),
        status: z.enum(['active', 'suspended']),
        suspendedAt: Timestamp.optional(),
        suspensionReason: z.string().optional(),
        lastError: z.string().optional(),
        pendingCount: z.number().int().min(0),
      }),
    ),
    nextCursor: z.string().optional().meta({ description: 'Absent on the last page' }),
  })
  .meta({ id: 'DeskEndpointList', description: "With the operator's key: endpoints across customers" });

const Branding = z
  .object({
    name: z.string(),
    logoUrl: z.string().nullable(),
    accentColor: z.string().meta({ example: '#2657d9' }),
    theme: z.enum(['light', 'dark', 'auto']),
  })
  .meta({ id: 'PortalBranding', description: "The portal's look: the session's branding over the configured one" });

const PortalGrantFields = {
  id: z.string().meta({ example: 'ps_4fQ9c2b7e0d1a4c6b8e3f5a7' }),
  customerId: z.string(),
  environment: z.enum(['sandbox', 'production']),
  endpointIds: z
    .array(z.string())
    .nullable()
    .meta({ description: 'The endpoints the session covers; null: all of the customer’s' }),
  readOnly: z.boolean(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  branding: Branding,
};

export const PortalSessionResponse = z
  .object({
    ...PortalGrantFields,
    url: z.string().meta({
      description:
        'The portal, opened once by this link (its token is in the fragment, which browsers never send to servers): ' +
        'put it in an iframe of a page whose origin PORTAL_FRAME_ANCESTORS lists',
      example: 'https://webhooks.example.com/portal#link=wpl_eyJ…',
    }),
  })
  .meta({ id: 'PortalSession' });

export const RedeemedPortalSessionResponse = z
  .object({
    ...PortalGrantFields,
    sessionToken: z.string().meta({
      description: "The portal's bearer for the customer routes until the session expires or is revoked (wps_…)",
    }),
  })
  .meta({ id: 'RedeemedPortalSession' });
