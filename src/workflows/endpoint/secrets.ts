import { condition, patched, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { isSealedSecret } from '../../domain/secrets';
import type { EndpointEntity } from './entity';

const { sealSecrets } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds' });
/** Since this patch an entity holding secrets in the clear seals them at the start of its next run. */
const SEALED_SECRETS = 'sealed-secrets';

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
