import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCountCache } from '../../src/pending/count-cache';

describe('the pending count cache', () => {
  /** A prefix of sorted keys; records which listings were asked for. */
  function prefix(keys: string[]) {
    const calls: (string | undefined)[] = [];
    const count = async (_key: string, after?: string) => {
      calls.push(after);
      const listed = keys.filter((k) => !after || k > after);
      return { count: listed.length, last: listed.at(-1) };
    };
    return { keys, calls, count };
  }

  it('counts once, then lists only what arrived after the last key it saw', async () => {
    const bucket = prefix(['a', 'b']);
    const cache = createCountCache(60_000, bucket.count);
    assert.equal(await cache.get('c', 'v1'), 2);
    bucket.keys.push('c', 'd');
    assert.equal(await cache.get('c', 'v1'), 4, 'new documents show at once');
    bucket.keys.splice(0, 1);
    assert.equal(await cache.get('c', 'v1'), 4, 'a departure waits for the next full count');
    assert.equal(await cache.get('c', 'v2'), 3, 'a new endpoint version counts again');
    assert.deepEqual(bucket.calls, [undefined, 'b', 'd', undefined]);
  });

  it('counts again after the time to live, or when this process changed the bucket', async () => {
    const bucket = prefix(['a']);
    const expired = createCountCache(0, bucket.count);
    await expired.get('c');
    await expired.get('c');
    const forgotten = createCountCache(60_000, bucket.count);
    await forgotten.get('c');
    forgotten.forget('c');
    await forgotten.get('c');
    assert.deepEqual(bucket.calls, [undefined, undefined, undefined, undefined]);
  });
});
