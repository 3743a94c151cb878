import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../../scripts/lib/stack';
import { buildImage, hostPid, ownContainers, podman, removeOwnContainers } from '../helpers/image';
import { assertFirstDelivery } from '../helpers/first-delivery';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, apiClient, startTestStack, type TestStack } from '../helpers/stack';

/**
 * The image as it ships (scripts/build-image.sh: the Dockerfile on a locally made Node 20 base): the API and the
 * worker run from it as two containers, against a Temporal dev server and versitygw on this machine's loopback, and
 * deliver a document, signed, to a real receiver.
 */
describe('the image: API and worker containers built from the Dockerfile', () => {
  let image: string;
  let size: number;
  let stack: TestStack;
  let api: ReturnType<typeof apiClient>;
  let receiver: Receiver;

  before(async () => {
    ({ image, size } = await buildImage());
    stack = await startTestStack({ RETRY_SCHEDULE_PRODUCTION: '1s,1s', DELIVERY_TIMEOUT: '5s' }, { image });
    api = apiClient(stack.baseUrl);
    receiver = await startReceiver(always(200));
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
    // Whatever happened above (a stack that failed halfway has no stop()), no container of this test is left.
    await removeOwnContainers();
  });

  it('runs both processes as the unprivileged node user', async () => {
    const containers = await ownContainers();
    assert.equal(containers.length, 2, `the API and the worker: ${containers.join(', ')}`);
    for (const container of containers) {
      // The process itself, seen from the host (no user namespace: the uid is the image's `node`), not a new exec.
      const status = readFileSync(`/proc/${await hostPid(container)}/status`, 'utf8');
      assert.match(status, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m, `${container} runs as node (uid 1000)`);
    }
  });

  it('holds the compiled service and production dependencies only', async (t) => {
    t.diagnostic(`${image}: ${Math.round(size / 1e6)} MB`);
    const app = await podman(['run', '--rm', '--pull=never', image, 'ls', '/app']);
    assert.deepEqual(app.split('\n').filter(Boolean), ['dist', 'node_modules', 'package-lock.json', 'package.json']);
    const installed = new Set(
      (await podman(['run', '--rm', '--pull=never', image, 'sh', '-c', 'cd /app/node_modules && ls -d -- [!@]* @*/*']))
        .split('\n')
        .filter(Boolean),
    );
    // The lock file says which top-level packages only the development tools need (`dev`), and which are optional
    // (other platforms' binaries, e.g. @swc/core-darwin-arm64).
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const topLevel = Object.entries(lock.packages)
      .filter(([key]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(key))
      .map(([key, entry]) => ({ name: key.slice('node_modules/'.length), ...entry }));
    const devOnly = topLevel.filter((p) => p.dev).map((p) => p.name);
    assert.ok(devOnly.includes('typescript') && devOnly.includes('eslint'), 'the lock file marks dev-only packages');
    assert.deepEqual(
      devOnly.filter((name) => installed.has(name)),
      [],
      'no package only the development tools need is in the image',
    );
    const production = topLevel.filter((p) => !p.dev);
    assert.deepEqual(
      production.filter((p) => !p.optional && !installed.has(p.name)).map((p) => p.name),
      [],
      'every production package is in the image',
    );
    assert.deepEqual(
      [...installed].filter((name) => !production.some((p) => p.name === name)),
      [],
      'and nothing else',
    );
    // The worker bundles its workflows at start with @temporalio/worker (a production dependency).
    assert.ok(installed.has('@temporalio/worker'));
  });

  it('delivers a submitted document once, with a valid signature', async () => {
    await assertFirstDelivery(api, ADMIN_KEY, receiver, { customerId: 'img', data: { from: 'the image' } });
  });
});
