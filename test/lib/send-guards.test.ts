import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreakers, verdictOf } from '../../src/lib/circuit-breaker';
import { EndpointShares, isShareFull, type Place } from '../../src/lib/endpoint-share';

const settings = { failures: 3, windowMs: 10_000, cooldownMs: 1_000, maxCooldownMs: 4_000 };

describe('CircuitBreakers', () => {
  it('opens after the failures of one window, lets one trial through after the cooldown and closes on its success', () => {
    let now = 0;
    const breakers = new CircuitBreakers(settings, () => now);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(breakers.admit('a'), { state: 'closed' });
      breakers.record('a', 'failure');
      now += 100;
    }
    assert.deepEqual(breakers.admit('a'), { state: 'open', until: 1_200 });
    assert.deepEqual(breakers.admit('b'), { state: 'closed' }, 'another URL is not affected');
    assert.equal(breakers.openCount(), 1);
    now = 1_200;
    assert.deepEqual(breakers.admit('a'), { state: 'trial' });
    assert.equal(breakers.admit('a').state, 'open', 'one trial at a time');
    breakers.record('a', 'success', true);
    assert.deepEqual(breakers.admit('a'), { state: 'closed' });
    assert.equal(breakers.openCount(), 0);
  });

  it('needs the failures within one window, with no success between them', () => {
    let now = 0;
    const breakers = new CircuitBreakers(settings, () => now);
    breakers.record('a', 'failure');
    breakers.record('a', 'failure');
    breakers.record('a', 'success');
    breakers.record('a', 'failure');
    assert.equal(breakers.admit('a').state, 'closed', 'a success in between starts the count again');
    now = 20_000;
    breakers.record('a', 'failure');
    breakers.record('a', 'failure');
    assert.equal(breakers.admit('a').state, 'closed', 'the first failure left the window');
    breakers.record('a', 'failure');
    assert.equal(breakers.admit('a').state, 'open');
  });

  it('a failed trial opens it for twice as long, up to the maximum; a neutral one hands the trial on', () => {
    let now = 0;
    const breakers = new CircuitBreakers(settings, () => now);
    for (let i = 0; i < 3; i++) breakers.record('a', 'failure');
    const cooldowns: number[] = [];
    for (let round = 0; round < 4; round++) {
      const open = breakers.admit('a');
      assert.equal(open.state, 'open');
      now = (open as { until: number }).until;
      assert.equal(breakers.admit('a').state, 'trial');
      breakers.record('a', 'failure', true);
      cooldowns.push((breakers.admit('a') as { until: number }).until - now);
    }
    assert.deepEqual(cooldowns, [2_000, 4_000, 4_000, 4_000]);
    now += 4_000;
    assert.equal(breakers.admit('a').state, 'trial');
    breakers.record('a', 'neutral', true);
    assert.equal(breakers.admit('a').state, 'trial', 'a trial that sent nothing decides nothing');
  });

  it('a trial whose caller never reports is handed out again after two minutes', () => {
    let now = 0;
    const breakers = new CircuitBreakers(settings, () => now);
    for (let i = 0; i < 3; i++) breakers.record('a', 'failure');
    now = 1_000;
    assert.equal(breakers.admit('a').state, 'trial');
    now += 60_000;
    assert.equal(breakers.admit('a').state, 'open');
    now += 61_000;
    assert.equal(breakers.admit('a').state, 'trial');
  });

  it('counts no answer, 5xx, 408 and 429 as failures; any other answer shows the endpoint is there', () => {
    assert.deepEqual([undefined, 500, 503, 408, 429, 200, 204, 400, 404, 410, 301].map(verdictOf), [
      'failure',
      'failure',
      'failure',
      'failure',
      'failure',
      'success',
      'success',
      'success',
      'success',
      'success',
      'success',
    ]);
  });
});

describe('EndpointShares', () => {
  it('holds at most the limit per endpoint, and other endpoints are not affected', async () => {
    let now = 0;
    const shares = new EndpointShares(
      15_000,
      () => 1,
      () => now,
    );
    const places = await Promise.all([1, 2, 3].map(() => shares.enter('a', 3, 'delivery')));
    assert.ok(places.every((p) => !isShareFull(p)));
    now = 5_000; // the three have been out for 5 s: a fourth is told to wait on a timer, at once
    assert.ok(isShareFull(await shares.enter('a', 3, 'delivery')));
    assert.ok(!isShareFull(await shares.enter('b', 3, 'delivery')));
    assert.equal(shares.inFlight().get('delivery'), 4);
    (places[0] as Place).leave();
    (places[0] as Place).leave();
    assert.equal(shares.inFlight().get('delivery'), 3, 'leaving twice frees one place');
    assert.ok(!isShareFull(await shares.enter('a', 3, 'delivery')));
  });

  it('a share of quick requests hands a freed place to the request waiting for it, oldest first, before newcomers', async () => {
    const shares = new EndpointShares(15_000);
    const [first] = (await Promise.all([shares.enter('a', 1, 'delivery')])) as Place[];
    const waiter = shares.enter('a', 1, 'notification');
    await new Promise((r) => setTimeout(r, 20));
    first.leave();
    const newcomer = shares.enter('a', 1, 'delivery');
    const handed = await waiter;
    assert.ok(!isShareFull(handed), 'the waiting request got the place');
    assert.equal(shares.inFlight().get('notification'), 1);
    assert.equal(shares.inFlight().get('delivery'), 0);
    (handed as Place).leave();
    assert.ok(!isShareFull(await newcomer), 'then the newcomer');
  });

  it('divides a limit between the worker processes, never below one place each', () => {
    let workers = 1;
    const shares = new EndpointShares(15_000, () => workers);
    assert.equal(shares.placesFor(10), 10);
    workers = 2;
    assert.equal(shares.placesFor(10), 5);
    workers = 3;
    assert.equal(shares.placesFor(10), 4);
    workers = 20;
    assert.equal(shares.placesFor(10), 1);
  });

  it('a share of hanging requests is tried again once they time out, a quick one within twice its age', async () => {
    let now = 0;
    const shares = new EndpointShares(
      15_000,
      () => 1,
      () => now,
      () => 0,
    );
    await shares.enter('a', 1, 'delivery');
    now = 400;
    assert.deepEqual(
      await shares.enter('a', 1, 'delivery'),
      { retryInMs: 800 },
      'quick: twice its age, after a second waiting here',
    );
    now = 3_000;
    assert.deepEqual(await shares.enter('a', 1, 'delivery'), { retryInMs: 12_000 }, 'hanging: when it times out');
    now = 14_900;
    assert.deepEqual(await shares.enter('a', 1, 'delivery'), { retryInMs: 250 }, 'never sooner than 250 ms');
  });

  it('spreads the requests it turns away over one more wait, so they do not all wake at once', async () => {
    let now = 0;
    let draw = 0;
    const draws = [0, 0.5, 0.999];
    const shares = new EndpointShares(
      15_000,
      () => 1,
      () => now,
      () => draws[draw++ % draws.length],
    );
    await shares.enter('a', 1, 'delivery');
    now = 3_000;
    const waits: number[] = [];
    for (let i = 0; i < 3; i++)
      waits.push(((await shares.enter('a', 1, 'delivery')) as { retryInMs: number }).retryInMs);
    assert.deepEqual(waits, [12_000, 19_500, 26_985]);
  });
});
