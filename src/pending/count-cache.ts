const MAX_ENTRIES = 10_000;

/**
 * Counting a prefix means listing it (S3 has no count), about 12 requests at 12,000 documents, so the API does not
 * count on every request: a count is reused for `ttlMs` while the endpoint's `version` (the entity's memo stamp,
 * which moves with every suspension, reactivation and first arrival of a notification window) stays the same, and
 * concurrent requests for the same key share one listing.
 */
export function createCountCache(ttlMs: number, count: (key: string) => Promise<number>) {
  const entries = new Map<string, { at: number; version: string; value: Promise<number> }>();
  return {
    get(key: string, version = ''): Promise<number> {
      const now = Date.now();
      const entry = entries.get(key);
      if (entry && entry.version === version && now - entry.at < ttlMs) return entry.value;
      const value = count(key);
      // Bounded: a process serving very many customers starts over rather than growing without end.
      if (entries.size >= MAX_ENTRIES) entries.clear();
      entries.set(key, { at: now, version, value });
      // A failed count is not remembered: the next request tries again.
      value.catch(() => entries.get(key)?.value === value && entries.delete(key));
      return value;
    },
    /** This process changed the bucket itself (an acknowledge, a resend): the next read counts again. */
    forget(key: string): void {
      entries.delete(key);
    },
  };
}
