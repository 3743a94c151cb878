const MAX_ENTRIES = 10_000;

/** A count of a prefix and the last key it saw (keys sort by when documents became pending). */
export interface PrefixCount {
  count: number;
  last?: string;
}

/**
 * Counting a prefix means listing it (S3 has no count), about 12 requests at 12,000 documents, so the API does not
 * count everything on every request. A full count is reused for `ttlMs` while the endpoint's `version` (the entity's
 * memo stamp, which moves with every suspension, reactivation and first arrival of a notification window) stays the
 * same; within that, each read lists only what sorts after the last key seen, one request, so new documents show at
 * once and only departures wait for the next full count. Concurrent reads of one key share one listing.
 */
export function createCountCache(ttlMs: number, count: (key: string, after?: string) => Promise<PrefixCount>) {
  const entries = new Map<string, { at: number; version: string; value: Promise<PrefixCount> }>();
  return {
    async get(key: string, version = ''): Promise<number> {
      const now = Date.now();
      const entry = entries.get(key);
      let value: Promise<PrefixCount>;
      if (entry && entry.version === version && now - entry.at < ttlMs) {
        value = entry.value.then(async (known) => {
          const added = await count(key, known.last);
          return { count: known.count + added.count, last: added.last ?? known.last };
        });
        entries.set(key, { ...entry, value });
      } else {
        value = count(key);
        // Bounded: a process serving very many customers starts over rather than growing without end.
        if (entries.size >= MAX_ENTRIES) entries.clear();
        entries.set(key, { at: now, version, value });
      }
      // A failed count is not remembered: the next request counts again.
      value.catch(() => entries.get(key)?.value === value && entries.delete(key));
      return (await value).count;
    },
    /** This process changed the bucket itself (an acknowledge, a resend): the next read counts again. */
    forget(key: string): void {
      entries.delete(key);
    },
  };
}
