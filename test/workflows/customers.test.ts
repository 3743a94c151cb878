import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowStartOptions } from '@temporalio/client';
import { hashApiKey } from '../../src/lib/api-keys';
import { testConfig } from '../helpers/config';
import { startTestS3 } from '../helpers/s3';
import { startTimeSkipping, type TimeSkipping } from '../helpers/temporal';

describe('creating a customer is resumable', () => {
  let s3: Awaited<ReturnType<typeof startTestS3>>;
  let ts: TimeSkipping;

  before(async () => {
    s3 = await startTestS3();
    ts = await startTimeSkipping(testConfig({ ...s3.env }));
  });
  after(async () => {
    await ts?.stop();
    await s3?.stop();
  });

  it('a create that failed between the environments completes when retried; a complete one is a 409', async () => {
    // Temporal refuses the second environment's entity once, after the first was created.
    const start = ts.client.workflow.start.bind(ts.client.workflow);
    let refused = 0;
    ts.client.workflow.start = (async (type: string, options: WorkflowStartOptions) => {
      if (options.workflowId === 'endpoint:production:resume' && refused++ === 0) throw new Error('unavailable');
      return start(type, options);
    }) as typeof ts.client.workflow.start;
    try {
      await assert.rejects(ts.service.createCustomer({ id: 'resume', name: 'Resume' }), /unavailable/);
      assert.ok(await ts.service.findEndpoint('sandbox', 'resume'), 'half created: sandbox only');
      assert.equal(await ts.service.findEndpoint('production', 'resume'), undefined);

      await assert.rejects(ts.service.createCustomer({ id: 'resume', name: 'Other' }), /already exists/);
      const keys = await ts.service.createCustomer({ id: 'resume', name: 'Resume' });
      for (const environment of ['sandbox', 'production'] as const) {
        const endpoint = await ts.service.findEndpoint(environment, 'resume');
        assert.equal(endpoint?.apiKeyHash, hashApiKey(keys[environment]), `the ${environment} key works`);
      }
      await assert.rejects(ts.service.createCustomer({ id: 'resume', name: 'Resume' }), /already exists/);
      assert.equal(refused, 2);
    } finally {
      ts.client.workflow.start = start;
    }
  });
});
