import {
  CopyObjectCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Config } from '../config';
import { expiredObjectKey, pendingKeyTail, pendingObjectKey } from '../domain/ids';
import type { DocumentInput, Environment } from '../domain/schemas';
import { deliveryBody, type EndpointReader } from './deliver';

export interface ArchiveDocumentInput {
  document: DocumentInput;
  /** Chosen by the workflow, so a retried activity writes the same key instead of a second object. */
  pendingSince: string;
}

export interface ArchivedDocument {
  bucket: string;
  objectKey: string;
  /** The key without the customer prefix: the entity's position in the bucket. */
  tail: string;
  pendingSince: string;
  expiresAt: string;
  /** The endpoint was active once the document was stored: no replay pass may be coming for it. */
  endpointActive: boolean;
  /** No notification cycle is under way: the entity must be told that documents arrived. */
  announce: boolean;
}

export function createArchiveActivities(deps: { s3: S3Client; endpoints: EndpointReader; config: Config }) {
  const { s3, endpoints, config } = deps;

  return {
    /** Stores the document, as the customer would have received it, in its environment's bucket. */
    async archiveDocument({ document, pendingSince }: ArchiveDocumentInput): Promise<ArchivedDocument> {
      const expiresAt = new Date(Date.parse(pendingSince) + config.retentionMs[document.environment]).toISOString();
      const bucket = config.buckets[document.environment];
      const entry = { id: document.id, type: document.type, createdAt: document.createdAt, pendingSince, expiresAt };
      const objectKey = pendingObjectKey(document.customerId, entry);
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: objectKey,
          Body: deliveryBody(document),
          ContentType: 'application/json',
          Metadata: {
            'customer-id': document.customerId,
            environment: document.environment,
            'document-id': document.id,
            'document-type': document.type,
            'created-at': document.createdAt,
            'pending-since': pendingSince,
            'expires-at': expiresAt,
          },
        }),
      );
      // Read after the write: a reactivation or notification cycle that began before this read finds the object when
      // it reads the bucket; one that began after is seen here.
      const endpoint = await endpoints.get(document.environment, document.customerId);
      return {
        bucket,
        objectKey,
        tail: pendingKeyTail(entry),
        pendingSince,
        expiresAt,
        endpointActive: endpoint?.status === 'active',
        announce: !endpoint?.arrivalsAnnounced,
      };
    },

    /** Moves an expired document to the cold store (copy, then delete), so an operator can still restore it. */
    async expireDocument(input: {
      document: DocumentInput;
      objectKey: string;
    }): Promise<{ coldKey?: string; coldRetentionMs: number }> {
      const Bucket = config.buckets[input.document.environment];
      const coldKey = expiredObjectKey(input.document.customerId, input.document.id);
      const source = `${Bucket}/${input.objectKey.split('/').map(encodeURIComponent).join('/')}`;
      try {
        await s3.send(new CopyObjectCommand({ Bucket, Key: coldKey, CopySource: source, MetadataDirective: 'COPY' }));
      } catch (err) {
        // A retry after the delete below finds no source: fine when the cold copy is already there.
        if ((err as S3ServiceException).name !== 'NoSuchKey') throw err;
        try {
          await s3.send(new HeadObjectCommand({ Bucket, Key: coldKey }));
        } catch (headErr) {
          // Neither copy exists (e.g. the lifecycle backstop removed it during a long outage): nothing to keep.
          if ((headErr as S3ServiceException).$metadata?.httpStatusCode === 404) {
            return { coldRetentionMs: config.COLD_RETENTION };
          }
          throw headErr;
        }
      }
      await s3.send(new DeleteObjectCommand({ Bucket, Key: input.objectKey }));
      return { coldKey, coldRetentionMs: config.COLD_RETENTION };
    },

    /** Deleting a missing object succeeds in S3, so a retried delete is harmless. */
    async deleteArchivedDocument({ environment, objectKey }: { environment: Environment; objectKey: string }) {
      await s3.send(new DeleteObjectCommand({ Bucket: config.buckets[environment], Key: objectKey }));
    },
  };
}
