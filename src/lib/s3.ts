import { CreateBucketCommand, HeadBucketCommand, S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import type { Config } from '../config';
import { ENVIRONMENTS } from '../domain/schemas';

export function createS3Client(config: Config): S3Client {
  return new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  });
}

/** Creates each environment's bucket if it is missing; safe to run from every process at start. */
export async function ensureBuckets(s3: S3Client, config: Config): Promise<void> {
  for (const environment of ENVIRONMENTS) {
    const Bucket = config.buckets[environment];
    try {
      await s3.send(new HeadBucketCommand({ Bucket }));
    } catch (err) {
      if ((err as S3ServiceException).$metadata?.httpStatusCode !== 404) throw err;
      try {
        await s3.send(new CreateBucketCommand({ Bucket }));
      } catch (createErr) {
        // Another process created it between our HEAD and CREATE.
        const name = (createErr as S3ServiceException).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw createErr;
      }
    }
  }
}
