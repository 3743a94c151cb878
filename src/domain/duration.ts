// Pure helpers shared by the API, the worker and the workflow sandbox: no Node built-ins here.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses `500ms`, `15s`, `5m`, `2h`, `3d` into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}" (expected e.g. 30s, 5m, 2h, 3d)`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2]]);
}

/** Formats milliseconds in the largest exact unit up to hours, as schedules are written (72h, not 3d). */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
