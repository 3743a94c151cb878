import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/api/app';
import type { DeliveryService } from '../../src/api/service';
import type { SubmitDocument } from '../../src/domain/schemas';
import { testConfig } from '../helpers/config';

const ADMIN = 'id-limits-admin-key-0123456789';
/** What the workflow service answers a start whose id is past its `limit.maxIDLength`. */
const tooLongForTemporal = () =>
  Object.assign(new Error('3 INVALID_ARGUMENT: WorkflowId length exceeds limit.'), {
    code: 3,
    details: 'WorkflowId length exceeds limit.',
    metadata: {},
  });

// The API in front of a service that records what reaches it: a refused id must never get there.
describe('ids past the engine budget are refused at submit, naming the field', () => {
  let server: Server;
  let base: string;
  const submitted: string[] = [];
  let failStarts = false;
  before(async () => {
    const service = {
      async submitDocument(_env: string, body: SubmitDocument) {
        if (failStarts) throw tooLongForTemporal();
        submitted.push(`${body.customerId}/${body.id}`);
        return 'sending';
      },
    } as unknown as DeliveryService;
    server = createApp({ service, config: testConfig({ ADMIN_API_KEY: ADMIN }) }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const submit = async (customerId: string, id: string) => {
    const res = await fetch(`${base}/v1/production/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerId, id, type: 'event', data: {} }),
    });
    const body = (await res.json()) as { error: { code: string; message: string; details: { path: string }[] } };
    return { status: res.status, body };
  };

  it('accepts the longest customer and document ids together, and refuses one character more with a 400 on `id`', async () => {
    const customer = 'c'.repeat(128);
    assert.deepEqual(await submit(customer, 'd'.repeat(62)), {
      status: 202,
      body: { id: 'd'.repeat(62), status: 'sending' },
    });
    assert.deepEqual(await submit('c'.repeat(62), 'd'.repeat(128)), {
      status: 202,
      body: { id: 'd'.repeat(128), status: 'sending' },
    });
    for (const [customerId, id] of [
      [customer, 'd'.repeat(63)],
      [customer, 'd'.repeat(128)],
      ['c'.repeat(63), 'd'.repeat(128)],
    ]) {
      const refused = await submit(customerId, id);
      assert.equal(refused.status, 400, `${customerId.length} + ${id.length}`);
      assert.equal(refused.body.error.code, 'validation_failed');
      assert.deepEqual(
        refused.body.error.details.map((d) => d.path),
        ['body.id'],
      );
      const max = 190 - customerId.length;
      assert.equal(
        refused.body.error.message,
        `body.id: at most ${max} characters for this customer: its id and a document id have at most 190 together`,
      );
    }
    assert.deepEqual(submitted, [`${customer}/${'d'.repeat(62)}`, `${'c'.repeat(62)}/${'d'.repeat(128)}`]);
  });

  it("answers the engine's own refusal of a long id with a 400, not a 500", async () => {
    failStarts = true;
    try {
      const refused = await submit('acme', 'doc-1');
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'id_too_long');
      assert.match(refused.body.error.message, /WorkflowId longer than the workflow service takes/);
    } finally {
      failStarts = false;
    }
  });
});
