import type { Attempt, DocumentState } from './schemas';

// A document's attempt log is bounded, whatever its schedule and however long it is probed while pending: it keeps
// its first attempts (how it started failing) and its last ones (how it fails now), and counts the ones between.

export const ATTEMPT_LOG_FIRST = 10;
export const ATTEMPT_LOG_LAST = 40;

/** Attempts made so far, listed or not (records from before the bound have no count: they list them all). */
export const attemptCount = (state: Pick<DocumentState, 'attempts' | 'attemptCount'>): number =>
  state.attemptCount ?? state.attempts.length;

/** Adds an attempt to the log, dropping the oldest of the last ones past the bound. */
export function recordAttempt(state: DocumentState, attempt: Attempt): void {
  state.attemptCount = attemptCount(state) + 1;
  state.attempts.push(attempt);
  if (state.attempts.length > ATTEMPT_LOG_FIRST + ATTEMPT_LOG_LAST) {
    state.attempts.splice(ATTEMPT_LOG_FIRST, 1);
    state.attemptsOmitted = (state.attemptsOmitted ?? 0) + 1;
  }
}
