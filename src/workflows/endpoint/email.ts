import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { EndpointEmailInput } from '../../activities/endpoint';

// Email must arrive, so it is retried for a long time: in its own workflow, never on the entity's critical path.
const { sendEndpointEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes', maximumAttempts: 50 },
});

/** A suspension email waits one notification window (documents failing together are counted), then goes out. */
export async function endpointEmail({ email, delayMs }: { email: EndpointEmailInput; delayMs: number }) {
  if (delayMs > 0) await sleep(delayMs);
  return sendEndpointEmail(email);
}
