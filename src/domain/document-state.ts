import type { DocumentInput, DocumentState } from './schemas';

/**
 * A delivery's state before its first attempt: what a document's workflow starts with, and what the API shows for a
 * delivery about to start. Type-only imports: workflow code uses it.
 */
export function newDocumentState(
  document: Pick<DocumentInput, 'id' | 'customerId' | 'environment' | 'type' | 'eventType' | 'createdAt'>,
): DocumentState {
  return {
    id: document.id,
    customerId: document.customerId,
    environment: document.environment,
    type: document.type,
    // Only in the state of documents that name one: a query's answer, not a command, so older histories replay alike.
    ...(document.eventType ? { eventType: document.eventType } : {}),
    createdAt: document.createdAt,
    status: 'sending',
    attempts: [],
  };
}
