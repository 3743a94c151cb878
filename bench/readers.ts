import { always, startReceiver } from '../test/helpers/receiver';
import { readCallsOf } from '../test/helpers/server-calls';
import { ADMIN_KEY, apiClient, type TestStack } from '../test/helpers/stack';
import { inParallel, percentile, until } from './measure';

// `npm run bench -- --readers[=N] [--cluster]`: what the message log and the stats cost when many read at once
// (issue 27). One customer with 20 endpoints (the webhook takes every document; each other one an event type of its
// own, which one document in 20 carries); N documents (100,000) submitted and delivered, for at most POPULATE_MS;
// then READERS readers at once, WAVES times, each reading the log's first PAGES pages (LIMIT a page, following the
// cursor) and one endpoint's stats. Printed: each answer's status, p50/p99/max of a page and of the stats, and what
// one page costs Temporal's visibility (the frontend's own counters, one reader alone). The issue's target, on the
// cluster stack: every answer 200, p99 <= 2 s.

const ENDPOINTS = 20;
const READERS = 30;
const WAVES = 3;
const PAGES = 3;
const LIMIT = 50;
const SUBMITTERS = 40;
/**
 * Submitted but not yet received, at most: the API accepts documents several times faster than this machine delivers
 * them, and an unbounded backlog (80,000 open workflows) slowed delivery to a tenth. The log is read once it drained.
 */
const BACKLOG = 2_000;
const POPULATE_MS = 60 * 60_000;
const DELIVERED_MS = Number(process.env.READERS_DELIVERED_MS ?? 10 * 60_000);

type Api = ReturnType<typeof apiClient>;

async function customerWithEndpoints(api: Api, customerId: string, url: string): Promise<string> {
  for (let k = 1; k < ENDPOINTS; k++) {
    const type = await api('POST', '/v1/event-types', ADMIN_KEY, { name: `bench.t${k}`, kind: 'event' });
    if (type.status !== 201 && type.status !== 409) throw new Error(`event type ${k}: ${type.status}`);
  }
  const created = await api('POST', '/v1/customers', ADMIN_KEY, { id: customerId, name: customerId });
  if (created.status !== 201) throw new Error(`create ${customerId}: ${created.status}`);
  const key = created.body.apiKeys.production as string;
  const put = await api('PUT', '/v1/production/webhook', key, { url });
  if (put.status !== 200) throw new Error(`webhook: ${put.status}`);
  for (let k = 1; k < ENDPOINTS; k++) {
    const made = await api('POST', '/v1/production/endpoints', key, { url, filterTypes: [`bench.t${k}`] });
    if (made.status !== 201) throw new Error(`endpoint ${k}: ${made.status} ${JSON.stringify(made.body)}`);
  }
  return key;
}

interface Timed {
  status: number;
  ms: number;
}

/** The first few refusals' bodies, to say why. */
const refusals = new Set<string>();

async function timed(api: Api, path: string, key: string): Promise<Timed & { body: { nextCursor?: string } }> {
  const t0 = performance.now();
  const res = await api('GET', path, key);
  if (res.status !== 200 && refusals.size < 5) refusals.add(`${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return { status: res.status, ms: performance.now() - t0, body: res.body };
}

/** One reader: the log's first PAGES pages, then one endpoint's stats. */
async function reader(api: Api, key: string, endpointIds: string[], n: number) {
  const pages: Timed[] = [];
  let cursor: string | undefined;
  for (let p = 0; p < PAGES; p++) {
    const page = await timed(
      api,
      `/v1/production/documents?limit=${LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      key,
    );
    pages.push(page);
    cursor = page.body?.nextCursor;
    if (page.status !== 200 || !cursor) break;
  }
  const stats = await timed(api, `/v1/production/endpoints/${endpointIds[n % endpointIds.length]}/stats`, key);
  return { pages, stats };
}

const summary = (samples: Timed[]) => ({
  answers: samples.length,
  statuses: samples.reduce<Record<number, number>>((s, t) => ({ ...s, [t.status]: (s[t.status] ?? 0) + 1 }), {}),
  p50Ms: Math.round(
    percentile(
      samples.map((t) => t.ms),
      50,
    ),
  ),
  p99Ms: Math.round(
    percentile(
      samples.map((t) => t.ms),
      99,
    ),
  ),
  maxMs: Math.round(Math.max(...samples.map((t) => t.ms))),
});

/** The customer of the bench on a stack, its documents submitted and delivered; close the receiver when done. */
async function populateReaders(stack: TestStack, documents: number, maxPopulateMs = POPULATE_MS) {
  const api = apiClient(stack.baseUrl);
  const receiver = await startReceiver(always(200));
  try {
    const key = await customerWithEndpoints(api, 'readers-co', receiver.url);
    const listed = await api('GET', '/v1/production/endpoints', key);
    const endpointIds = (listed.body.data as { id: string }[]).map((e) => e.id);
    // Every 20th document carries an event type: the webhook and that type's endpoint each get it.
    const t0 = Date.now();
    let submitted = 0;
    let deliveries = 0;
    await inParallel('r', documents, SUBMITTERS, async (id) => {
      while (deliveries - receiver.received.length >= BACKLOG && Date.now() - t0 <= maxPopulateMs) {
        await new Promise((r) => setTimeout(r, 100));
      }
      if (Date.now() - t0 > maxPopulateMs) return;
      const n = Number(id.slice(1));
      const eventType = n % 20 === 0 ? `bench.t${1 + ((n / 20) % (ENDPOINTS - 1))}` : undefined;
      const res = await api('POST', '/v1/production/documents', ADMIN_KEY, {
        customerId: 'readers-co',
        id,
        type: 'event',
        ...(eventType ? { eventType } : {}),
        data: { n },
      });
      if (res.status !== 202) throw new Error(`submit ${id}: ${res.status}`);
      submitted++;
      deliveries += eventType ? 2 : 1;
    });
    const populateMs = Date.now() - t0;
    // Every delivery, or none more for a minute (an attempt the loaded machine timed out retries hours later).
    let seen = 0;
    let lastArrival = Date.now();
    // Readers are measured anyway when not all arrived (the figures say how many did).
    await until(
      'every delivery received',
      () => {
        if (receiver.received.length > seen) [seen, lastArrival] = [receiver.received.length, Date.now()];
        return seen >= deliveries || Date.now() - lastArrival > 60_000;
      },
      DELIVERED_MS,
    ).catch(() => undefined);
    const deliveredMs = Date.now() - t0;
    return {
      key,
      endpointIds,
      receiver,
      documents: submitted,
      deliveries,
      populateS: Math.round(populateMs / 1000),
      deliveredS: Math.round(deliveredMs / 1000),
    };
  } catch (error) {
    await receiver.close();
    throw error;
  }
}

/** What READERS readers at once, WAVES times, wait for the log and the stats of a populated customer. */
async function measureReaders(stack: TestStack, key: string, endpointIds: string[]) {
  const api = apiClient(stack.baseUrl);
  refusals.clear();
  // One reader alone: what a page costs visibility, over the first PAGES pages.
  const perPage: number[] = [];
  let cursor: string | undefined;
  for (let p = 0; p < PAGES; p++) {
    const { result, visibility } = await readCallsOf(stack.metricsUrl, () =>
      timed(
        api,
        `/v1/production/documents?limit=${LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        key,
      ),
    );
    perPage.push(visibility);
    cursor = result.body?.nextCursor;
  }
  const statsCalls = (
    await readCallsOf(stack.metricsUrl, () => timed(api, `/v1/production/endpoints/${endpointIds[1]}/stats`, key))
  ).visibility;

  const pages: Timed[] = [];
  const stats: Timed[] = [];
  for (let wave = 0; wave < WAVES; wave++) {
    const results = await Promise.all(
      Array.from({ length: READERS }, (_, n) => reader(api, key, endpointIds, n + wave * READERS)),
    );
    for (const r of results) {
      pages.push(...r.pages);
      stats.push(r.stats);
    }
    // Past the stats' freshness: each wave counts again.
    await new Promise((r) => setTimeout(r, 6_000));
  }
  return {
    endpoints: endpointIds.length,
    readers: READERS,
    waves: WAVES,
    pagesPerReader: PAGES,
    limit: LIMIT,
    visibilityCallsPerPage: perPage,
    visibilityCallsPerStats: statsCalls,
    refusals: [...refusals],
    logPages: summary(pages),
    stats: summary(stats),
  };
}

export async function benchReaders(stack: TestStack, documents: number) {
  const { key, endpointIds, receiver, ...populated } = await populateReaders(stack, documents);
  try {
    return { ...populated, received: receiver.received.length, ...(await measureReaders(stack, key, endpointIds)) };
  } finally {
    await receiver.close();
  }
}

export function printReaders(result: Awaited<ReturnType<typeof benchReaders>>) {
  const line = (label: string, text: string) => console.log(`${label.padEnd(30)}${text}`);
  line('customer', `${result.endpoints} endpoints, ${result.documents} documents, ${result.deliveries} deliveries`);
  line('', `submitted in ${result.populateS} s, ${result.received} received by ${result.deliveredS} s`);
  line('visibility calls, one reader', `pages 1-${result.pagesPerReader}: ${result.visibilityCallsPerPage.join(', ')}`);
  line('', `stats: ${result.visibilityCallsPerStats}`);
  const timing = (s: ReturnType<typeof summary>) =>
    `${s.answers} answers ${JSON.stringify(s.statuses)}  p50 ${s.p50Ms} ms  p99 ${s.p99Ms} ms  max ${s.maxMs} ms`;
  line(`log pages, ${result.readers} at once`, timing(result.logPages));
  line(`stats, ${result.readers} at once`, timing(result.stats));
  for (const refusal of result.refusals) line('refused', refusal);
}
