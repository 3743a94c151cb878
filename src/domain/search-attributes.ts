import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the Temporal server by `npm start` (and docker-compose), so the Web UI can filter deliveries.
export const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const EnvironmentKey = defineSearchAttributeKey('Environment', SearchAttributeType.KEYWORD);
export const DocumentTypeKey = defineSearchAttributeKey('DocumentType', SearchAttributeType.KEYWORD);
export const DeliveryStatusKey = defineSearchAttributeKey('DeliveryStatus', SearchAttributeType.KEYWORD);
/** The catalog's event type a document names, when it names one (the message log filters on it). */
export const EventTypeKey = defineSearchAttributeKey('EventType', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [
  CustomerIdKey,
  EnvironmentKey,
  DocumentTypeKey,
  DeliveryStatusKey,
  EventTypeKey,
] as const;
