import { z } from 'zod';
import {
  DocumentTypeSchema,
  EndpointIdSchema,
  EventTypeNameSchema,
  PatchWebhookFields,
  PutWebhookSchema,
  type DocumentType,
  type EndpointState,
} from './schemas';

// A customer's endpoints in one environment: the first (`/v1/{env}/webhook`, id ep_default) and up to
// MAX_ENDPOINTS - 1 others, each with its own URL, secret, schedule and suspension, and a route: which documents it
// gets (Svix's filterTypes). The first endpoint's entity keeps every route, so a document finds where it goes in the
// one record its first attempt reads anyway.

/** Endpoints per customer and environment, the first included (Svix's default is 50; 20 is what this one promises). */
export const MAX_ENDPOINTS = 20;
const MAX_FILTER_TYPES = 50;

/** An event type, or a family of them: `shipment.*` matches `shipment.delivered` and `shipment.lost.found`. */
const FilterTypeSchema = z.union([
  EventTypeNameSchema,
  z
    .string()
    .max(130)
    .regex(/^([A-Za-z0-9][A-Za-z0-9_-]*\.)+\*$/, 'an event type, or a prefix of one followed by .*'),
]);

/** Which documents an endpoint gets: none of the two set, every document. */
const EndpointRouteSchema = z.strictObject({
  description: z.string().max(500).nullish(),
  /** Event types (or `family.*`); a document without an event type never matches a filtered endpoint. */
  filterTypes: z.array(FilterTypeSchema).min(1).max(MAX_FILTER_TYPES).nullish(),
  /** Document types: `["summary"]` for an endpoint that takes only summaries. */
  kinds: z.array(DocumentTypeSchema).min(1).max(2).nullish(),
});
export type EndpointRoute = z.infer<typeof EndpointRouteSchema>;

/** POST and PUT /v1/{env}/endpoints/{id}: the webhook's configuration and the route. */
export const PutEndpointSchema = PutWebhookSchema.extend(EndpointRouteSchema.shape);
export type PutEndpoint = z.infer<typeof PutEndpointSchema>;

/** PATCH: turn it on or off, change some of its headers, or change its route. */
export const PatchEndpointSchema = EndpointRouteSchema.extend(PatchWebhookFields).refine(
  (patch) => Object.values(patch).some((value) => value !== undefined),
  'name at least one of active, headers, description, filterTypes, kinds',
);
export type PatchEndpoint = z.infer<typeof PatchEndpointSchema>;

/** Whether a document goes to an endpoint with this route. */
export function routeMatches(
  route: Pick<EndpointRoute, 'filterTypes' | 'kinds'>,
  document: { type: DocumentType; eventType?: string },
): boolean {
  if (route.kinds && !route.kinds.includes(document.type)) return false;
  if (!route.filterTypes) return true;
  const { eventType } = document;
  if (!eventType) return false;
  return route.filterTypes.some((filter) =>
    filter.endsWith('.*') ? eventType.startsWith(filter.slice(0, -1)) : filter === eventType,
  );
}

/** `GET /documents/{id}?endpointId=`: one delivery of the document, to that endpoint (`ep_default`: the document). */
export const DocumentQuerySchema = z.object({
  endpointId: EndpointIdSchema.optional().meta({
    description: "That endpoint's delivery alone (a test event sent to another endpoint has only that one)",
  }),
});

/** The ids of a customer's endpoints other than the first, from the first endpoint's record (none without one). */
export const otherEndpointIds = (record?: Pick<EndpointState, 'endpoints'>): string[] =>
  (record?.endpoints ?? []).map((endpoint) => endpoint.id);

/**
 * The ids of a customer's deleted endpoints whose documents are not settled yet, from the first endpoint's record: the
 * customer-wide pending routes still read their prefixes.
 */
export const deletedEndpointIds = (record?: Pick<EndpointState, 'deletedEndpoints'>): string[] =>
  (record?.deletedEndpoints ?? []).map((endpoint) => endpoint.id);
