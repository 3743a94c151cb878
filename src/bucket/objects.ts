import { GetObjectCommand, type S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import type { DocumentInput } from '../domain/schemas';

/** S3's answer for a key that is not there (GET: NoSuchKey; HEAD and some servers: a bare 404). */
export const isMissing = (err: unknown) =>
  (err as S3ServiceException).name === 'NoSuchKey' || (err as S3ServiceException).$metadata?.httpStatusCode === 404;

/** A JSON object's content, or undefined when there is no object at the key. */
export async function readJson<T>(s3: S3Client, Bucket: string, Key: string): Promise<T | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
    return JSON.parse(await object.Body!.transformToString()) as T;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** The metadata a document's object carries, pending and then in the cold store. */
export function documentMetadata(document: DocumentInput, entry: { pendingSince: string; expiresAt: string }) {
  return {
    'customer-id': document.customerId,
    environment: document.environment,
    'document-id': document.id,
    'document-type': document.type,
    'created-at': document.createdAt,
    'pending-since': entry.pendingSince,
    'expires-at': entry.expiresAt,
  };
}
