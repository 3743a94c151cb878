import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOCAL_ADMIN_API_KEY, loadConfig, operatorKey } from '../../src/config';
import { parseDuration } from '../../src/domain/duration';
import {
  formatRetrySchedule,
  jitterMs,
  parseRetrySchedule,
  retryOffsets,
  retryScheduleOr,
} from '../../src/domain/schedule';

const H = 3_600_000;

describe('retry schedules', () => {
  it('the default preset retries 2 h, 24 h and 48 h after the first attempt', () => {
    assert.deepEqual(retryOffsets(parseRetrySchedule('rejected-information')), [2 * H, 24 * H, 48 * H]);
  });

  it('the suspension-8 preset has the eight intervals of the design', () => {
    assert.equal(formatRetrySchedule(parseRetrySchedule('suspension-8')), '5m,10m,15m,30m,5h,18h,72h,72h');
  });

  it('parses seconds-scale schedules and refuses nonsense', () => {
    assert.deepEqual(parseRetrySchedule('2s, 500ms,1m'), [2000, 500, 60_000]);
    assert.throws(() => parseRetrySchedule('soon'), /invalid duration/);
    assert.throws(() => parseRetrySchedule('0s'), /positive/);
    assert.throws(() => parseDuration('5 weeks'), /invalid duration/);
  });

  it('jitter is never negative and at most 10% of the interval, capped at 5 minutes', () => {
    assert.equal(jitterMs(2 * H, 0), 0);
    assert.equal(jitterMs(10_000, 0.999), 999);
    assert.equal(jitterMs(72 * H, 0.999), Math.floor(0.999 * 5 * 60_000));
  });
});

describe('config', () => {
  it('defaults to the design: 3 days sandbox, 10 days production, 15 s timeout, default preset', () => {
    const config = loadConfig({});
    assert.equal(config.retentionMs.sandbox, 3 * 24 * H);
    assert.equal(config.retentionMs.production, 10 * 24 * H);
    assert.equal(config.DELIVERY_TIMEOUT, 15_000);
    assert.equal(config.retrySchedules.production, 'rejected-information');
    assert.equal(config.ALLOW_PRIVATE_URLS, false);
  });

  it('the API refuses to start without an operator key, or with the local one outside the local stack', () => {
    assert.throws(() => operatorKey(loadConfig({})), /ADMIN_API_KEY is not set/);
    assert.throws(() => operatorKey(loadConfig({ ADMIN_API_KEY: LOCAL_ADMIN_API_KEY })), /well-known/);
    assert.equal(
      operatorKey(loadConfig({ ADMIN_API_KEY: LOCAL_ADMIN_API_KEY, LOCAL_STACK: 'true' })),
      LOCAL_ADMIN_API_KEY,
    );
    assert.equal(
      operatorKey(loadConfig({ ADMIN_API_KEY: 'a-long-random-operator-key' })),
      'a-long-random-operator-key',
    );
  });

  it('bounds retry schedules: 30 days an interval, 60 days in all', () => {
    assert.throws(() => parseRetrySchedule('31d'), /30d/);
    assert.throws(() => parseRetrySchedule('30d,30d,1s'), /60d/);
    assert.throws(() => parseRetrySchedule('99999999999999999999d'), /30d/);
    assert.deepEqual(retryScheduleOr('1000000d', '1h'), [3_600_000], 'a stored schedule that no longer parses');
  });

  it('names the variable that is wrong', () => {
    assert.throws(() => loadConfig({ RETRY_SCHEDULE_SANDBOX: '2x' }), /RETRY_SCHEDULE_SANDBOX/);
    assert.throws(() => loadConfig({ RETENTION_PRODUCTION: 'ten days' }), /RETENTION_PRODUCTION/);
  });
});
