import { formatDuration, parseDuration } from './duration';

/**
 * Retry schedules are intervals between attempts. `rejected-information` retries 2 h, 24 h and 48 h after the first
 * attempt; `suspension-8` is the eight-step preset some customers use.
 */
export const RETRY_PRESETS = {
  'rejected-information': '2h,22h,24h',
  'suspension-8': '5m,10m,15m,30m,5h,18h,72h,72h',
} as const;

export const MAX_SCHEDULE_STEPS = 20;
const DAY_MS = 86_400_000;
const MAX_INTERVAL_MS = 30 * DAY_MS;
export const MAX_SCHEDULE_MS = 60 * DAY_MS;
/** A receiver's Retry-After moves one retry later by at most this much. */
export const MAX_RETRY_AFTER_MS = 7 * DAY_MS;

/** A preset name or a comma-separated list of intervals, e.g. `2h,22h,24h`; returns intervals in milliseconds. */
export function parseRetrySchedule(text: string): number[] {
  const spec = (RETRY_PRESETS as Record<string, string>)[text.trim()] ?? text;
  const intervals = spec.split(',').map((part) => parseDuration(part));
  if (intervals.length === 0 || intervals.length > MAX_SCHEDULE_STEPS) {
    throw new Error(`a retry schedule has 1 to ${MAX_SCHEDULE_STEPS} intervals`);
  }
  if (intervals.some((ms) => ms <= 0)) throw new Error('retry intervals must be positive');
  // Bounded so that no stored schedule can put an attempt beyond what dates (or the retention) can hold.
  if (intervals.some((ms) => ms > MAX_INTERVAL_MS)) throw new Error('each retry interval is at most 30d');
  if (intervals.reduce((a, b) => a + b, 0) > MAX_SCHEDULE_MS) throw new Error('a retry schedule spans at most 60d');
  return intervals;
}

export function formatRetrySchedule(intervals: number[]): string {
  return intervals.map(formatDuration).join(',');
}

/** Offsets of each retry from the first attempt: intervals 2h,22h,24h give 2h, 24h, 48h. */
export function retryOffsets(intervals: number[]): number[] {
  let total = 0;
  return intervals.map((ms) => (total += ms));
}

/** Jitter never moves an attempt earlier than its schedule, and stays small: 10% of the interval, at most 5 minutes. */
export function jitterMs(intervalMs: number, random: number): number {
  return Math.floor(random * Math.min(intervalMs * 0.1, 5 * 60_000));
}

/**
 * The endpoint's schedule, or the fallback when the stored one does not parse (stored before today's bounds): a
 * stored configuration must never fail a workflow task or an attempt.
 */
export function retryScheduleOr(text: string | undefined, fallback: string): number[] {
  try {
    return parseRetrySchedule(text ?? fallback);
  } catch {
    return parseRetrySchedule(fallback);
  }
}
