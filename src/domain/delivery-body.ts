import type { DocumentInput } from './schemas';

/** The body a receiver gets, and the object a pending document is stored as: the same bytes on every attempt. */
export function deliveryBody(document: DocumentInput): string {
  const { id, type, environment, createdAt, data } = document;
  return JSON.stringify({ id, type, environment, createdAt, data });
}
