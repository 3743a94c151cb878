// Zod-free on purpose: workflow code imports this (the entity merges a PATCH of headers).
//
// An endpoint's custom headers carry receivers' credentials (`authorization: Bearer ...`): their values are sealed
// like signing secrets (lib/secret-seal.ts) before they reach the entity and opened only where a request is sent.
// Their names stay readable: the API shows them.

/** Custom headers per endpoint at most. */
export const MAX_HEADERS = 20;

/**
 * The headers after a PATCH: a value sets that header (replacing one of the same name in any case), null removes it,
 * headers the patch does not name stay. Undefined when none is left.
 */
export function mergeHeaders(
  current: Record<string, string> | undefined,
  patch: Record<string, string | null>,
): Record<string, string> | undefined {
  const named = new Set(Object.keys(patch).map((name) => name.toLowerCase()));
  const kept = Object.entries(current ?? {}).filter(([name]) => !named.has(name.toLowerCase()));
  const set = Object.entries(patch).filter((entry): entry is [string, string] => entry[1] !== null);
  const merged = [...kept, ...set];
  return merged.length > 0 ? Object.fromEntries(merged) : undefined;
}
