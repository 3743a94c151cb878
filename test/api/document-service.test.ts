import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { S3Client } from '@aws-sdk/client-s3';
import { createDocumentService } from '../../src/api/service/documents';
import type { EndpointReader } from '../../src/activities';
import type { EndpointState } from '../../src/domain/schemas';
import { createMetrics } from '../../src/lib/metrics';
import { SecretSeal } from '../../src/lib/secret-seal';
import { createBodyStore } from '../../src/bucket/bodies';
import type { PendingCounter } from '../../src/bucket/counts';
import type { PendingQueue } from '../../src/bucket/queue';
import { testConfig } from '../helpers/config';

describe('document submission', () => {
  it('reads a customer once, then starts its documents without asking again; an unknown one is asked each time', async () => {
    const reads: string[] = [];
    const endpoints: EndpointReader = {
      async get(environment, customerId) {
        reads.push(`${environment}/${customerId}`);
        return customerId === 'acme' ? ({ url: 'https://example.com/hook' } as EndpointState) : undefined;
      },
    };
    const started: string[] = [];
    const client = {
      workflow: {
        async start(_type: string, options: { workflowId: string }) {
          started.push(options.workflowId);
        },
      },
    } as unknown as Client;
    const service = createDocumentService(
      {
        client,
        endpoints,
        config: testConfig(),
        metrics: createMetrics(),
        s3: {} as S3Client,
        store: {} as PendingQueue,
        // Small documents: none is stored at submit.
        bodies: createBodyStore({ s3: {} as S3Client, config: testConfig() }),
        counter: {} as PendingCounter,
        clock: async () => Date.now(),
        seal: new SecretSeal(testConfig().SECRET_KEYS),
      },
      // No document here names an event type.
      { checkEventType: async () => undefined },
    );
    const doc = (id: string, customerId = 'acme') => ({ id, customerId, type: 'event' as const, data: {} });

    for (const id of ['a', 'b', 'c']) assert.equal(await service.submitDocument('production', doc(id)), 'sending');
    assert.deepEqual(reads, ['production/acme']);
    assert.equal(started.length, 3);
    // The other environment is another endpoint, read on its own.
    await service.submitDocument('sandbox', doc('d'));
    assert.deepEqual(reads, ['production/acme', 'sandbox/acme']);

    for (let i = 0; i < 2; i++) {
      await assert.rejects(service.submitDocument('production', doc('e', 'nobody')), /customer nobody/);
    }
    assert.equal(reads.filter((r) => r === 'production/nobody').length, 2, 'a missing customer is never cached');
    assert.equal(started.length, 4);
  });
});
