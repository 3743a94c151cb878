import { AsyncLocalStorage } from 'node:async_hooks';

// Reads shared within one request: a GET reads the customer's entity to check its key and again to answer (the
// message log, the stats, the webhook), two describes of the same workflow where one serves. Only requests that write
// nothing share their reads (a write followed by a read of what it wrote must see the write), and nothing outlives
// the request, so no process ever answers from another request's read.

const reads = new AsyncLocalStorage<Map<string, Promise<unknown>>>();

/** Runs `fn` (and everything it starts) with reads shared: the same key is read once. */
export function sharingReads<T>(fn: () => T): T {
  return reads.run(new Map(), fn);
}

/** `read()`, or the promise of the same key's read already made in this request; a failed read is not kept. */
export function sharedRead<T>(key: string, read: () => Promise<T>): Promise<T> {
  const store = reads.getStore();
  if (!store) return read();
  let made = store.get(key) as Promise<T> | undefined;
  if (!made) {
    made = read();
    store.set(key, made);
    made.catch(() => store.get(key) === made && store.delete(key));
  }
  return made;
}
