import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { freePort, startS3 } from '../../scripts/lib/stack';
import { listPages } from '../../src/bucket/listing';

/** A real versitygw on a temporary directory and a free port; returns the config variables that point at it. */
export async function startTestS3() {
  const dir = mkdtempSync(path.join(tmpdir(), 'webhooks-s3-'));
  const port = await freePort();
  const accessKey = 'test-access-key';
  const secretKey = 'test-secret-key';
  const start = () =>
    startS3({ port, dataDir: path.join(dir, 'data'), accessKey, secretKey, output: path.join(dir, 'versitygw.log') });
  let child = await start();
  return {
    /** Takes S3 away (SIGKILL) and brings it back on the same port and data, to prove nothing is lost meanwhile. */
    async kill() {
      await child.stop('SIGKILL');
    },
    async restart() {
      child = await start();
    },
    env: {
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_ACCESS_KEY_ID: accessKey,
      S3_SECRET_ACCESS_KEY: secretKey,
    },
    async stop() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every key under `prefix`, sorted (all pages of the listing). */
export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of listPages(s3, { Bucket: bucket, Prefix: prefix }))
    keys.push(...page.objects.map((o) => o.Key!));
  return keys.sort();
}

export async function readObject(s3: S3Client, bucket: string, key: string) {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { metadata: head.Metadata ?? {}, body: await got.Body!.transformToString() };
}
