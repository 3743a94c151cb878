import { condition, patched, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { isSealedSecret } from '../../domain/secrets';
import type { EndpointEntity } from './entity';

const { sealSecrets, sealHeaders } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });
/** Since this patch an entity holding secrets in the clear seals them at the start of its next run. */
const SEALED_SECRETS = 'sealed-secrets';
/** Since this patch an entity holding custom header values in the clear seals them at the start of its next run. */
const SEALED_HEADERS = 'sealed-headers';

/** The header values an entity holds in the clear (made before header values were sealed), by name. */
const clearHeaders = (entity: EndpointEntity): Record<string, string> =>
  Object.fromEntries(Object.entries(entity.state.headers ?? {}).filter(([, value]) => !isSealedSecret(value)));

/** Whether this run starts with a secret in the clear (made before sealing), and since the patch seals it. */
export function holdsClearSecrets(entity: EndpointEntity): boolean {
  const clear = (value?: string) => value !== undefined && !isSealedSecret(value);
  return (clear(entity.state.secret) || clear(entity.state.previousSecret?.secret)) && patched(SEALED_SECRETS);
}

/**
 * An entity made before signing secrets were sealed holds them in the clear: its next run seals them (an activity:
 * the keys are the worker's), so its memo and queries show them sealed from then on. Runs recorded before the patch
 * replay without it. (Decided in the run's first task, before any activity: a patch marker after a local activity
 * of the first task does not replay.)
 */
export async function sealLegacySecrets(entity: EndpointEntity, decided: boolean): Promise<void> {
  const { state } = entity;
  if (!decided) return;
  const sealed = await sealSecrets({ secret: state.secret, previousSecret: state.previousSecret });
  // A rotation while the activity ran brought sealed secrets of its own: those stay.
  const clear = (value?: string) => value !== undefined && !isSealedSecret(value);
  if (clear(state.secret)) state.secret = sealed.secret;
  if (clear(state.previousSecret?.secret) && sealed.previousSecret) state.previousSecret = sealed.previousSecret;
  entity.publish();
}

/** Whether this run starts with a header value in the clear, and since the patch seals it (as holdsClearSecrets). */
export function holdsClearHeaders(entity: EndpointEntity): boolean {
  return Object.keys(clearHeaders(entity)).length > 0 && patched(SEALED_HEADERS);
}

/**
 * An entity made before header values were sealed holds them in the clear (receivers' tokens, in its memo and
 * queries): its next run seals them, as sealLegacySecrets does secrets. Decided in the run's first task likewise.
 */
export async function sealLegacyHeaders(entity: EndpointEntity, decided: boolean): Promise<void> {
  if (!decided) return;
  const clear = clearHeaders(entity);
  const sealed = await sealHeaders(clear);
  // A PUT or PATCH while the activity ran brought sealed values of its own: a header is replaced only if it still
  // holds the value that was sealed.
  const { headers } = entity.state;
  if (!headers) return;
  entity.state.headers = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      clear[name] === value && sealed[name] ? sealed[name] : value,
    ]),
  );
  entity.publish();
}

/** Drops the previous secret when its grace ends (a timer: time skipping and replays see the same moment). */
export async function secretGraceLoop(entity: EndpointEntity): Promise<void> {
  for (;;) {
    await condition(() => !!entity.state.previousSecret || entity.draining());
    if (entity.draining()) return;
    const { expiresAt } = entity.state.previousSecret!;
    const replaced = () => entity.state.previousSecret?.expiresAt !== expiresAt || entity.draining();
    const wait = Date.parse(expiresAt) - Date.now();
    if (wait > 0 && (await condition(replaced, wait))) continue;
    entity.state.previousSecret = undefined;
    entity.publish();
  }
}
