import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config';
import { pendingObjectKey } from '../domain/ids';
import type { DocumentInput, Environment } from '../domain/schemas';
import { deliveryBody } from './deliver';

export interface ArchiveDocumentInput {
  document: DocumentInput;
  /** Chosen by the workflow, so a retried activity writes the same key instead of a second object. */
  pendingSince: string;
}

export interface ArchivedDocument {
  bucket: string;
  objectKey: string;
  pendingSince: string;
  expiresAt: string;
}

export function createArchiveActivities(deps: { s3: S3Client; config: Config }) {
  const { s3, config } = deps;

  return {
    /** Stores the document, as the customer would have received it, in its environment's bucket. */
    async archiveDocument({ document, pendingSince }: ArchiveDocumentInput): Promise<ArchivedDocument> {
      const since = new Date(pendingSince);
      const expiresAt = new Date(since.getTime() + config.retentionMs[document.environment]).toISOString();
      const bucket = config.buckets[document.environment];
      const objectKey = pendingObjectKey(document.customerId, since, document.id);
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
      return { bucket, objectKey, pendingSince, expiresAt };
    },

    /** Deleting a missing object succeeds in S3, so a retried delete is harmless. */
    async deleteArchivedDocument({ environment, objectKey }: { environment: Environment; objectKey: string }) {
      await s3.send(new DeleteObjectCommand({ Bucket: config.buckets[environment], Key: objectKey }));
    },
  };
}
