import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  logQuery,
  pageOfLog,
  MAX_ROUNDS,
  CLOCK_MARGIN_MS,
  currentStatuses,
  deliveriesQuery,
  type LoggedDocument,
  type Visibility,
} from '../../src/api/service/message-log';

type Row = LoggedDocument & { workflowId: string; startedAt?: number; closedAt?: number };

/**
 * Whether a run created at `createdAt` is in a query's span of CreatedAt, as the dev server's SQLite visibility
 * answers: a time whose milliseconds end in 0 it finds a little after itself (`CreatedAt <= '…51.910Z'` misses one
 * created at …51.910, `CreatedAt > '…51.910Z'` finds it), as `temporal server start-dev` 1.5.1 does.
 */
function inSpan(query: string, createdAt: string): boolean {
  const [, from, to] = /CreatedAt >= '([^']+)' AND CreatedAt <= '([^']+)'/.exec(query)!;
  const micros = (iso: string) => Date.parse(iso.slice(0, 19) + 'Z') * 1_000 + Number(iso.slice(20, -1).padEnd(6, '0'));
  const at = micros(createdAt) + (Date.parse(createdAt) % 10 === 0 ? 0.5 : 0);
  return at >= micros(from) && at <= micros(to);
}

/**
 * Visibility over rows in memory, in SQL visibility's own order (running runs first, latest started first; then closed
 * ones, latest closed first: never by creation), counting calls.
 */
function visibilityOf(rows: Row[]) {
  const calls = { counts: 0, lists: 0, listed: 0 };
  const matching = (query: string) => {
    const running = query.includes("ExecutionStatus = 'Running'");
    assert.ok(running || query.includes("ExecutionStatus != 'Running'"), 'one listing each: running, closed');
    return rows.filter((row) => inSpan(query, row.createdAt) && (row.closedAt === undefined) === running);
  };
  const visibility: Visibility = {
    async count(query) {
      calls.counts++;
      return matching(query).length;
    },
    async list(query, max) {
      calls.lists++;
      const found = matching(query).sort(
        (a, b) =>
          (b.closedAt ?? Infinity) - (a.closedAt ?? Infinity) ||
          (b.startedAt ?? 0) - (a.startedAt ?? 0) ||
          (a.workflowId < b.workflowId ? -1 : 1),
      );
      calls.listed += Math.min(found.length, max);
      return { rows: found.slice(0, max), more: found.length > max };
    },
  };
  return { visibility, calls };
}

/** A document delivered `closeAfter` ms after it was created (running while undefined), started as it was created. */
const row = (n: number, at: number, closeAfter: number | undefined = 100): Row => ({
  workflowId: `delivery:production:acme:doc_${n}`,
  id: `doc_${n}`,
  type: 'event',
  status: closeAfter === undefined ? 'pending' : 'delivered',
  createdAt: new Date(at).toISOString(),
  startedAt: at + 5,
  closedAt: closeAfter === undefined ? undefined : at + closeAfter,
});

/** Every page from the first, as a client follows nextCursor. */
async function readAll(
  visibility: Visibility,
  limit: number,
  now: number,
  window: { since?: string; until?: string } = {},
) {
  const pages: LoggedDocument[][] = [];
  let cursor: string | undefined;
  do {
    const page = await pageOfLog(visibility, 'q', { limit, cursor, ...window }, now);
    pages.push(page.data);
    cursor = page.nextCursor;
    assert.ok(pages.length < 1_000, 'the pages end');
  } while (cursor);
  return pages;
}

const NOW = Date.parse('2026-12-02T12:00:00.000Z');
const order = (rows: Row[]) =>
  [...rows].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || (a.workflowId < b.workflowId ? 1 : -1));

describe('the message log pages through visibility newest first', () => {
  it('lists every document once, newest first, over bursts in one millisecond and months of quiet', async () => {
    const rows: Row[] = [];
    // A burst of 700 in ten milliseconds, 60 of them in the same millisecond, a trickle over 90 days.
    for (let i = 0; i < 700; i++) rows.push(row(i, NOW - 5_000 + (i % 10)));
    for (let i = 700; i < 760; i++) rows.push(row(i, NOW - 20_000));
    for (let i = 760; i < 1_000; i++) rows.push(row(i, NOW - (i - 759) * 9 * 3_600_000));
    const { visibility, calls } = visibilityOf(rows);
    const pages = await readAll(visibility, 50, NOW);
    assert.deepEqual(
      pages.flat().map((d) => d.id),
      order(rows).map((r) => r.id),
    );
    assert.ok(pages.slice(0, -1).every((page) => page.length === 50));
    // Bounded per page: no count, at most MAX_ROUNDS rounds of two listings.
    assert.equal(calls.counts, 0);
    assert.ok(calls.lists <= pages.length * 2 * MAX_ROUNDS, `${calls.lists} listings for ${pages.length} pages`);
  });

  it('any documents, any page size, closed any time after or still open: each exactly once, in order (property)', async () => {
    const DAY = 86_400_000;
    // How long after its creation a document's run closed (or, undefined, still runs), and whether its run started
    // much later than it was created (a restore, a resend, a run continued as new).
    const life = fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: 0, max: 5_000 }),
      fc.integer({ min: 0, max: 12 * DAY }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            age: fc.integer({ min: 0, max: 40 * DAY }),
            life,
            late: fc.nat({ max: 3 * DAY }),
            skew: fc.boolean(),
          }),
          { maxLength: 300 },
        ),
        fc.integer({ min: 1, max: 100 }),
        async (docs, limit) => {
          const rows = docs.map(({ age, life, late, skew }, n) => {
            // Ages collide often at this range only by chance: repeat some to force ties.
            const at = NOW - (n % 4 === 0 ? docs[0].age : age);
            const r = row(n, at, life === undefined ? undefined : Math.min(life, NOW - at));
            // An API clock a little ahead of Temporal's stamps CreatedAt after the run's start and close.
            const drift = skew ? -CLOCK_MARGIN_MS + 1 : 0;
            return {
              ...r,
              startedAt: Math.min(NOW, at + (n % 5 === 0 ? late : 0) + drift),
              closedAt: r.closedAt === undefined ? undefined : Math.max(r.closedAt + drift, at + drift),
            };
          });
          const { visibility, calls } = visibilityOf(rows);
          const pages = await readAll(visibility, limit, NOW);
          assert.deepEqual(
            pages.flat().map((d) => d.id),
            order(rows).map((r) => r.id),
          );
          assert.ok(calls.lists <= pages.length * 2 * MAX_ROUNDS);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a page is two listings, page after page, at 50 documents a second with some left open', async () => {
    // 20,000 documents over 400 s, each delivered within 3 s; one in 30 still pending.
    const rows = Array.from({ length: 20_000 }, (_, n) => {
      const delivered = row(n, NOW - 400_000 + n * 20, (n * 7919) % 3_000);
      return n % 30 === 0 ? { ...delivered, status: 'pending' as const, closedAt: undefined } : delivered;
    });
    const { visibility, calls } = visibilityOf(rows);
    // The first page, which every reader reads, from the top of the whole log: a few hundred rows, not thousands.
    await pageOfLog(visibility, 'q', { limit: 50 }, NOW);
    assert.ok(calls.listed <= 4 * 200, `${calls.listed} rows read for the first page`);
    Object.assign(calls, { lists: 0, listed: 0 });
    const pages = await readAll(visibility, 50, NOW);
    assert.equal(pages.flat().length, 20_000);
    assert.ok(calls.lists <= pages.length * 2 + 6, `${calls.lists} listings for ${pages.length} pages`);
    // What visibility reads and the API decodes: about two pages' rows a page, not a thousand.
    assert.ok(calls.listed <= pages.length * 2 * 50 * 1.1, `${calls.listed} rows read for ${pages.length} pages`);
  });

  it('thousands of old documents closing now (expired, acknowledged) cost a few more listings, never a lost one', async () => {
    const DAY = 86_400_000;
    // 3,000 created three days ago, all expiring within the last minute; 500 recent ones delivered at once.
    const rows = [
      ...Array.from({ length: 3_000 }, (_, n) => row(n, NOW - 3 * DAY + n, 3 * DAY - 60_000 + n * 20 - n)),
      ...Array.from({ length: 500 }, (_, n) => row(10_000 + n, NOW - 50_000 + n * 100, 50)),
    ];
    const { visibility, calls } = visibilityOf(rows);
    const pages = await readAll(visibility, 50, NOW);
    assert.deepEqual(
      pages.flat().map((d) => d.id),
      order(rows).map((r) => r.id),
    );
    assert.ok(calls.lists <= pages.length * 2 * MAX_ROUNDS);
    assert.ok(pages.slice(0, -1).filter((page) => page.length < 50).length <= 3, 'few short pages');
  });

  it('since and until bound the log; a document stamped a little ahead of this clock is on the first page', async () => {
    const rows = [row(1, NOW - 3 * 3_600_000), row(2, NOW - 2 * 3_600_000), row(3, NOW - 3_600_000), row(4, NOW + 500)];
    const { visibility } = visibilityOf(rows);
    assert.deepEqual(
      (await readAll(visibility, 10, NOW)).flat().map((d) => d.id),
      ['doc_4', 'doc_3', 'doc_2', 'doc_1'],
    );
    const window = { since: rows[1].createdAt, until: rows[2].createdAt };
    assert.deepEqual(
      (await readAll(visibility, 10, NOW, window)).flat().map((d) => d.id),
      ['doc_2'],
      'since inclusive, until exclusive',
    );
  });

  it('a cursor it did not give is a 400 naming query.cursor', async () => {
    const { visibility } = visibilityOf([]);
    const forged = (cursor: object) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
    for (const cursor of ['nope', forged({ b: 'x' }), forged({ b: 9e15, w: 1 }), forged({ b: -9e15, w: 1 })]) {
      await assert.rejects(pageOfLog(visibility, 'q', { limit: 10, cursor }, NOW), (err: Error) => {
        assert.equal((err as { httpStatus?: number }).httpStatus, 400);
        assert.match(err.message, /^query\.cursor: /);
        return true;
      });
    }
  });

  it('builds its query from the filters, nothing else', () => {
    assert.equal(
      logQuery('sandbox', 'acme', { limit: 10, status: 'pending', type: 'event', eventType: 'shipment.delivered' }),
      "WorkflowType = 'deliverDocument' AND ExecutionStatus != 'ContinuedAsNew' AND Environment = 'sandbox' AND " +
        "CustomerId = 'acme' AND EndpointId IS NULL AND DeliveryStatus = 'pending' AND DocumentType = 'event' AND " +
        "EventType = 'shipment.delivered'",
    );
    assert.throws(() => logQuery('sandbox', "x' OR '1'='1", { limit: 10 }));
  });

  it('shows each row as its latest run, with its deliveries to the other endpoints, named in listings of 1,000', async () => {
    const at = (ms: number) => new Date(NOW - ms).toISOString();
    const page: Row[] = ['d1', 'd2', 'd3'].map((id, n) => ({
      workflowId: `delivery:production:acme:${id}`,
      id,
      type: 'event',
      status: n === 1 ? 'routed' : 'delivered',
      createdAt: at(n),
    }));
    const run = (workflowId: string, status: Row['status'], startedAt: number): Row => ({
      ...page[0],
      workflowId,
      status,
      startedAt,
    });
    const runs: Row[] = [
      run('delivery:production:acme:d1:ep_b', 'pending', 1),
      run('delivery:production:acme:d1:ep_a', 'delivered', 1),
      // Resent after it was delivered: the later run is the one shown.
      run('delivery:production:acme:d1:ep_a', 'retrying', 2),
      run('delivery:production:acme:d2:ep_a', 'delivered', 1),
      run('delivery:production:acme:d3', 'delivered', 1),
      run('delivery:production:acme:d3', 'pending', 2),
    ];
    const asked: { query: string; max: number }[] = [];
    const visibility: Visibility = {
      count: async () => assert.fail('no count'),
      list: async (query, max) => {
        asked.push({ query, max });
        return { rows: runs.filter((r) => query.includes(`'${r.workflowId}'`)), more: false };
      },
    };
    const logged = await currentStatuses(visibility, page, ['ep_a', 'ep_b']);
    assert.deepEqual(
      logged.map((doc) => [doc.id, doc.status, doc.endpoints]),
      [
        [
          'd1',
          'delivered',
          [
            { endpointId: 'ep_default', status: 'delivered' },
            { endpointId: 'ep_a', status: 'retrying' },
            { endpointId: 'ep_b', status: 'pending' },
          ],
        ],
        // The first endpoint took none of it.
        ['d2', 'routed', [{ endpointId: 'ep_a', status: 'delivered' }]],
        // Only the first endpoint's: the row as the page's listing had it (which held every run: see below).
        ['d3', 'delivered', undefined],
      ],
    );
    assert.equal(asked.length, 1);
    assert.match(
      asked[0].query,
      /^WorkflowType = 'deliverDocument' AND ExecutionStatus != 'ContinuedAsNew' AND WorkflowId IN \(/,
    );
    assert.equal(asked[0].query.split("'delivery:").length - 1, 6, 'three documents at two other endpoints');

    // Filtered by status, the rows are read again: one whose latest run left the status (d3, resent) is dropped.
    assert.deepEqual(
      (await currentStatuses(visibility, page, [], 'delivered')).map((doc) => doc.id),
      ['d1'],
    );
    // One endpoint and no filter: nothing more is read.
    asked.length = 0;
    assert.deepEqual((await currentStatuses(visibility, page, [])).length, 3);
    assert.equal(asked.length, 0);
    // 100 documents at 20 endpoints, filtered: two listings of 1,000 ids.
    const many = Array.from({ length: 100 }, (_, n) => ({ ...page[0], workflowId: `delivery:production:acme:m${n}` }));
    const others = Array.from({ length: 19 }, (_, n) => `ep_${n}`);
    await currentStatuses(visibility, many, others, 'delivered');
    assert.equal(asked.length, 2);
    assert.ok(asked.every((a) => a.query.split("'delivery:").length - 1 === 1_000));
    asked.length = 0;
    assert.deepEqual(await currentStatuses(visibility, [], others), []);
    assert.equal(asked.length, 0, 'an empty page lists nothing');
  });

  it("reads the page's deliveries in one listing of its span of CreatedAt, by name when the span holds more", async () => {
    const at = (ms: number) => new Date(NOW - ms).toISOString();
    const page: Row[] = ['d1', 'd2', 'd3'].map((id, n) => ({
      workflowId: `delivery:production:acme:${id}`,
      id,
      type: 'event',
      status: 'delivered',
      createdAt: at(n * 10),
    }));
    const delivery = (doc: number, endpointId: string, status: Row['status']): Row => ({
      ...page[doc],
      workflowId: `${page[doc].workflowId}:${endpointId}`,
      status,
    });
    // Deliveries in the span: the page's, and one of a document the page does not show (filtered out), ignored.
    const runs: Row[] = [
      delivery(0, 'ep_a', 'pending'),
      delivery(2, 'ep_b', 'delivered'),
      { ...delivery(1, 'ep_a', 'delivered'), workflowId: 'delivery:production:acme:other:ep_a' },
    ];
    const asked: string[] = [];
    const listed = (more: boolean): Visibility => ({
      count: async () => assert.fail('no count'),
      list: async (query) => {
        asked.push(query);
        if (query.includes('WorkflowId IN')) {
          return { rows: runs.filter((r) => query.includes(`'${r.workflowId}'`)), more: false };
        }
        return { rows: runs.filter((r) => inSpan(query, r.createdAt)), more };
      },
    });
    const deliveries = deliveriesQuery('production', 'acme');
    assert.equal(
      deliveries,
      "WorkflowType = 'deliverDocument' AND ExecutionStatus != 'ContinuedAsNew' AND Environment = 'production' AND " +
        "CustomerId = 'acme' AND EndpointId IS NOT NULL",
    );
    const expected = [
      [
        'd1',
        [
          { endpointId: 'ep_default', status: 'delivered' },
          { endpointId: 'ep_a', status: 'pending' },
        ],
      ],
      ['d2', undefined],
      [
        'd3',
        [
          { endpointId: 'ep_default', status: 'delivered' },
          { endpointId: 'ep_b', status: 'delivered' },
        ],
      ],
    ];
    const shown = (docs: LoggedDocument[]) => docs.map((doc) => [doc.id, doc.endpoints]);
    assert.deepEqual(
      shown(await currentStatuses(listed(false), page, ['ep_a', 'ep_b'], undefined, deliveries)),
      expected,
    );
    // Up to the last microsecond of the span's last millisecond, for the dev server (see inSpan).
    const to = at(0).replace(/Z$/, '999Z');
    assert.deepEqual(asked, [`${deliveries} AND CreatedAt >= '${at(20)}' AND CreatedAt <= '${to}'`]);
    // A span with more deliveries than a listing holds: the page's are named instead, with the same answer.
    asked.length = 0;
    assert.deepEqual(
      shown(await currentStatuses(listed(true), page, ['ep_a', 'ep_b'], undefined, deliveries)),
      expected,
    );
    assert.equal(asked.length, 2);
    assert.match(asked[1], /WorkflowId IN \(/);
  });

  it('lists each document once, as its newest run (a resend or a restore starts a new run of an ended one)', async () => {
    const first = { ...row(1, NOW - 1_000), status: 'delivered' as const, startedAt: 1 };
    const resent = { ...first, status: 'pending' as const, startedAt: 2 };
    const { visibility } = visibilityOf([resent, first, row(2, NOW - 2_000)]);
    const pages = await readAll(visibility, 10, NOW);
    assert.deepEqual(
      pages.flat().map((d) => [d.id, d.status]),
      [
        ['doc_1', 'pending'],
        ['doc_2', 'delivered'],
      ],
    );
  });
});
