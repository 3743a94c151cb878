import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../scripts/lib/stack';
import { ENVIRONMENTS } from '../../src/domain/environments';
import {
  deliveryWorkflowId,
  endpointEmailWorkflowId,
  endpointWorkflowId,
  FIRST_ENDPOINT_ID,
  fitWorkflowId,
  MAX_CUSTOMER_AND_DOCUMENT_ID_LENGTH,
  MAX_WORKFLOW_ID_LENGTH,
  maxDocumentIdLength,
  notificationWorkflowId,
  queueOf,
  portalSessionWorkflowId,
  restoreWorkflowId,
} from '../../src/domain/ids';
import { operatorEventStart } from '../../src/domain/operator-events';
import { newPortalSessionId } from '../../src/lib/portal-tokens';
import { CreateCustomerSchema, EndpointIdSchema, IdSchema, SubmitDocumentSchema } from '../../src/domain/schemas';
import { sha256Hex } from '../../src/domain/sha256';

/** The engine's limit as the stacks set it: what every id must fit, whatever the code's constant says. */
const LIMIT = 255;

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-'.split('');
/** An id of one of the given lengths, as IdSchema takes them (a letter or digit first). */
const idOfLength = (length: fc.Arbitrary<number>) =>
  length.chain((n) =>
    fc
      .tuple(
        fc.constantFrom(...ID_CHARS.slice(0, 62)),
        fc.string({ unit: fc.constantFrom(...ID_CHARS), maxLength: n - 1, minLength: n - 1 }),
      )
      .map(([first, rest]) => first + rest),
  );
/** Lengths up to the longest IdSchema takes, the longest ones often. */
const idLength = fc.oneof(fc.integer({ min: 1, max: 128 }), fc.integer({ min: 120, max: 130 }));
const customerId = idOfLength(idLength).filter((id) => IdSchema.safeParse(id).success);
const documentId = idOfLength(idLength);
/** Every endpoint id the API takes: the first's name, the API's own (`ep_` and 24 hex), and the longest the schema takes. */
const endpointId = fc
  .oneof(
    fc.constant(FIRST_ENDPOINT_ID),
    fc.stringMatching(/^ep_[0-9a-f]{24}$/),
    fc
      .integer({ min: 1, max: 45 })
      .chain((n) =>
        fc
          .string({ unit: fc.constantFrom(...ID_CHARS.slice(0, 62)), minLength: n, maxLength: n })
          .map((s) => `ep_${s}`),
      ),
  )
  .filter((id) => EndpointIdSchema.safeParse(id).success);
const environment = fc.constantFrom(...ENVIRONMENTS);
const submitted = (customerId: string, id: string) =>
  SubmitDocumentSchema.safeParse({ customerId, id, type: 'event', data: {} });

describe('every derived id fits the engine limit the stacks set (limit.maxIDLength)', () => {
  it('is one budget: the constant, the compose and cluster config and the dev server are the same', () => {
    assert.equal(MAX_WORKFLOW_ID_LENGTH, LIMIT);
    const yaml = readFileSync('deploy/temporal/dynamicconfig/development-sql.yaml', 'utf8');
    assert.match(yaml, new RegExp(`^limit\\.maxIDLength:\\n  - value: ${LIMIT}\\n`, 'm'));
    assert.ok(DEV_SERVER_DYNAMIC_CONFIG.includes(`limit.maxIDLength=${LIMIT}`));
  });

  it("a document the API accepts has every delivery id within it, in either environment, at any of its customer's endpoints", () => {
    fc.assert(
      fc.property(environment, customerId, documentId, endpointId, (env, customer, id, endpoint) => {
        if (!submitted(customer, id).success) return;
        assert.ok(deliveryWorkflowId(env, customer, id).length <= LIMIT);
        assert.ok(deliveryWorkflowId(env, customer, id, endpoint).length <= LIMIT, `${customer} ${id} ${endpoint}`);
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses one character past the longest document id a customer can have, naming `id`, and that one is never short', () => {
    fc.assert(
      fc.property(customerId, (customer) => {
        const max = maxDocumentIdLength(customer);
        assert.ok(max >= 62, 'a customer id of 128 characters leaves 62 for its documents');
        assert.ok(submitted(customer, 'd'.repeat(max)).success);
        if (max === 128) return; // IdSchema's own limit, not the budget
        const refused = submitted(customer, 'd'.repeat(max + 1));
        assert.ok(!refused.success);
        assert.deepEqual(refused.error.issues[0].path, ['id']);
        assert.match(refused.error.issues[0].message, new RegExp(`at most ${max} characters`));
      }),
    );
    assert.equal(maxDocumentIdLength('c'.repeat(128)), 62);
    assert.equal(MAX_CUSTOMER_AND_DOCUMENT_ID_LENGTH, 190);
    // The issue's case: two ids of 128 characters made a delivery id of 278 (322 to another endpoint).
    assert.equal(submitted('c'.repeat(128), 'd'.repeat(128)).error?.issues[0].path[0], 'id');
    // A test event's id (`test_` and 16 hex) fits any customer's budget.
    assert.ok('test_0123456789abcdef'.length <= maxDocumentIdLength('c'.repeat(128)));
  });

  it("a customer the API creates has its entities', emails', notifications', restores' and portal sessions' ids within it", () => {
    fc.assert(
      fc.property(
        environment,
        customerId,
        endpointId,
        fc.constantFrom('suspended', 'recovered'),
        fc.date({ min: new Date(0), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
        fc.uuid(),
        (env, customer, endpoint, kind, at, uuid) => {
          if (!CreateCustomerSchema.safeParse({ id: customer, name: 'x' }).success) return;
          const queue = queueOf(customer, endpoint);
          for (const id of [
            endpointWorkflowId(env, customer, endpoint),
            endpointEmailWorkflowId(env, queue, kind, at.toISOString()),
            notificationWorkflowId(env, queue, `ntf_${uuid}`),
            restoreWorkflowId(env, customer, `rst_${uuid.replaceAll('-', '')}`),
            portalSessionWorkflowId(env, customer, newPortalSessionId()),
          ]) {
            assert.ok(id.length <= LIMIT, id);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it("an operator event's workflow id fits, the same each time, unchanged when it fitted, distinct for distinct events", () => {
    // The longest a producer makes: a document's expiry at another endpoint (src/activities/pending.ts).
    const customer = 'c'.repeat(128);
    const longest = `op_document.expired_production_${queueOf(customer, 'ep_'.padEnd(43, '0'))}_${'d'.repeat(62)}_2026-01-01T00:00:00.000Z`;
    assert.ok(longest.length > LIMIT);
    const event = (id: string) =>
      operatorEventStart({ id, type: 'document.expired', timestamp: '', data: {} as never });
    assert.ok(event(longest).workflowId.length <= LIMIT);
    assert.equal(event(longest).workflowId, event(longest).workflowId);
    assert.equal(
      event('op_endpoint.suspended_production_acme_1').workflowId,
      'operator-event:op_endpoint.suspended_production_acme_1',
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: fc.constantFrom(...ID_CHARS, ':', '~'), maxLength: 600 }), {
          minLength: 2,
          maxLength: 5,
        }),
        (tails) => {
          const ids = tails.map((tail) => event(`${longest}${tail}`).workflowId);
          for (const id of ids) assert.ok(id.length <= LIMIT);
          assert.equal(new Set(ids).size, ids.length, 'two events never share a workflow');
        },
      ),
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...ID_CHARS), maxLength: LIMIT }), (id) => {
        assert.equal(fitWorkflowId(id), id);
      }),
    );
  });

  it("shortens with SHA-256, the same as node:crypto's", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        assert.equal(sha256Hex(text), createHash('sha256').update(text).digest('hex'));
      }),
    );
    for (const n of [0, 55, 56, 63, 64, 65, 119, 120, 1_000]) {
      const text = 'a'.repeat(n);
      assert.equal(sha256Hex(text), createHash('sha256').update(text).digest('hex'), String(n));
    }
  });
});
