import type { DocumentInput } from './schemas';

/** The body a receiver gets, and the object a pending document is stored as: the same bytes on every attempt. */
export function deliveryBody(document: DocumentInput): string {
  const { id, type, eventType, environment, createdAt, data } = document;
  // Without an event type the bytes are those of documents before the catalog (JSON leaves `undefined` out).
  return JSON.stringify({ id, type, eventType, environment, createdAt, data });
}
