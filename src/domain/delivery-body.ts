import type { DocumentInput, SubmitDocument } from './schemas';

/** A document with its data at hand: one that travels by `bodyKey` has read its stored body first. */
export type DocumentWithData = DocumentInput & Pick<SubmitDocument, 'data'>;

/** The body a receiver gets, and the object a pending document is stored as: the same bytes on every attempt. */
export function deliveryBody(document: DocumentWithData): string {
  const { id, type, eventType, environment, createdAt, data } = document;
  // Without an event type the bytes are those of documents before the catalog (JSON leaves `undefined` out).
  return JSON.stringify({ id, type, eventType, environment, createdAt, data });
}
