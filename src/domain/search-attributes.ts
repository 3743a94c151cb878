import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { otherEndpoint } from './ids';
import type { DocumentInput, DocumentStatus, EndpointState } from './schemas';

// Registered on the Temporal server by `npm start` (and docker-compose), so the Web UI can filter deliveries.
const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
const EnvironmentKey = defineSearchAttributeKey('Environment', SearchAttributeType.KEYWORD);
export const DocumentTypeKey = defineSearchAttributeKey('DocumentType', SearchAttributeType.KEYWORD);
export const DeliveryStatusKey = defineSearchAttributeKey('DeliveryStatus', SearchAttributeType.KEYWORD);
/** The catalog's event type a document names, when it names one (the message log filters on it). */
export const EventTypeKey = defineSearchAttributeKey('EventType', SearchAttributeType.KEYWORD);
/**
 * When the document was first submitted: the message log's time. Not StartTime, which a run continued as new (or a
 * restore) starts again.
 */
export const CreatedAtKey = defineSearchAttributeKey('CreatedAt', SearchAttributeType.DATETIME);
/** The endpoint a delivery is to, when it is not the customer's first (whose deliveries carry none). */
const EndpointIdKey = defineSearchAttributeKey('EndpointId', SearchAttributeType.KEYWORD);
/**
 * An endpoint entity's `active`, `suspended` or `deleted`: the support desk lists suspended endpoints by it (a deleted
 * one is in no list).
 */
export const EndpointStatusKey = defineSearchAttributeKey('EndpointStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [
  CustomerIdKey,
  EnvironmentKey,
  DocumentTypeKey,
  DeliveryStatusKey,
  EventTypeKey,
  CreatedAtKey,
  EndpointIdKey,
  EndpointStatusKey,
] as const;

/** A search attribute's type as the Temporal CLI and `temporal operator search-attribute create` spell it. */
export function cliTypeOf(key: (typeof SEARCH_ATTRIBUTES)[number]): 'Keyword' | 'Datetime' {
  return key.type === SearchAttributeType.DATETIME ? 'Datetime' : 'Keyword';
}

/**
 * What a delivery's workflow is started with, from the API (a submit, a restore, a test event) and from a document's
 * workflow (a delivery to another endpoint): one list, so every start carries every attribute the log reads.
 */
export function documentSearchAttributes(document: DocumentInput, status: DocumentStatus): SearchAttributePair[] {
  const endpointId = otherEndpoint(document.endpointId);
  return [
    { key: CustomerIdKey, value: document.customerId },
    { key: EnvironmentKey, value: document.environment },
    { key: DocumentTypeKey, value: document.type },
    { key: DeliveryStatusKey, value: status },
    { key: CreatedAtKey, value: new Date(document.createdAt) },
    ...(document.eventType ? [{ key: EventTypeKey, value: document.eventType }] : []),
    ...(endpointId ? [{ key: EndpointIdKey, value: endpointId }] : []),
  ];
}

/** What an endpoint's entity is started with, from the API (a customer, a PUT) and from its first endpoint's entity. */
export function endpointSearchAttributes(
  state: Pick<EndpointState, 'customerId' | 'environment' | 'endpointId' | 'status'>,
): SearchAttributePair[] {
  return [
    { key: CustomerIdKey, value: state.customerId },
    { key: EnvironmentKey, value: state.environment },
    ...(state.endpointId ? [{ key: EndpointIdKey, value: state.endpointId }] : []),
    { key: EndpointStatusKey, value: state.status },
  ];
}
