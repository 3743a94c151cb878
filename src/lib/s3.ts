import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Config } from '../config';
import { bodyKeepMs } from '../bucket/bodies';
import { BODIES_ROOT } from '../bucket/keys';
import { ENVIRONMENTS, type Environment } from '../domain/schemas';
import { logger } from './logger';

export function createS3Client(config: Config): S3Client {
  return new S3Client({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  });
}

const DAY_MS = 86_400_000;

/**
 * Backstop expiry rules, a day past each retention: the workflows delete objects on time, this catches anything a
 * lost workflow would leave behind. Servers without lifecycle support (versitygw's posix backend) just skip it.
 */
async function applyLifecycle(s3: S3Client, Bucket: string, config: Config, environment: Environment): Promise<void> {
  const retentionMs = config.retentionMs[environment];
  const days = (ms: number) => Math.ceil(ms / DAY_MS) + 1;
  try {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'pending-backstop',
              Status: 'Enabled',
              Filter: { Prefix: 'pending/' },
              Expiration: { Days: days(retentionMs) },
            },
            {
              // Large documents' bodies: no delivery reads one past its keep time (bucket/bodies.ts).
              ID: 'document-bodies',
              Status: 'Enabled',
              Filter: { Prefix: BODIES_ROOT },
              Expiration: { Days: days(bodyKeepMs(config, environment)) },
            },
            {
              ID: 'cold-store',
              Status: 'Enabled',
              Filter: { Prefix: 'expired/' },
              Expiration: { Days: days(config.COLD_RETENTION) },
            },
          ],
        },
      }),
    );
  } catch (err) {
    if ((err as S3ServiceException).$metadata?.httpStatusCode !== 501) throw err;
    logger.warn(
      { bucket: Bucket },
      'this S3 server has no lifecycle rules; the workflows and the cold-store sweep enforce retention',
    );
  }
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
    await applyLifecycle(s3, Bucket, config, environment);
  }
}
