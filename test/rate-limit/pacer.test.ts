import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RATE_WINDOW_MS } from '../../src/rate-limit/slots';
import { SendPacer } from '../../src/rate-limit/pacer';

/** The most sends any window of RATE_WINDOW_MS holds, as a receiver counting them would. */
function busiestWindow(times: number[]): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= RATE_WINDOW_MS) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('SendPacer', () => {
  it('holds a send that a late one before it would crowd into the same window', () => {
    let now = 0;
    const pacer = new SendPacer(() => now);
    // Slots at 0, 550, 1100 for 2 a second; the first is sent 120 ms late, the next two on time.
    now = 120;
    assert.equal(pacer.book('a', 2), 0);
    now = 550;
    assert.equal(pacer.book('a', 2), 0);
    now = 1_100;
    const wait = pacer.book('a', 2);
    assert.equal(wait, 120, 'the third waits until the late first is a window old');
    assert.equal(busiestWindow([120, 550, 1_100 + wait]), 2);
  });

  it('never delays sends that keep to their slots, nor another endpoint', () => {
    let now = 0;
    const pacer = new SendPacer(() => now);
    const sentAt: number[] = [];
    for (let slot = 0; slot < 20; slot++) {
      now = slot * (RATE_WINDOW_MS / 5);
      assert.equal(pacer.book('a', 5), 0, `slot ${slot}`);
      sentAt.push(now);
      assert.equal(pacer.book(`other-${slot}`, 1), 0);
    }
    assert.equal(busiestWindow(sentAt), 5);
  });

  it('paces a burst booked at once to the limit, and forgets endpoints that stopped sending', () => {
    let now = 0;
    const pacer = new SendPacer(() => now);
    const sentAt = Array.from({ length: 9 }, () => now + pacer.book('a', 3));
    assert.deepEqual(sentAt, [0, 0, 0, 1_100, 1_100, 1_100, 2_200, 2_200, 2_200]);
    now = 60_000;
    pacer.book('b', 1);
    assert.equal(pacer.size(), 1, 'only the endpoint sending now is kept');
  });
});
