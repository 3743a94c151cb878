import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { freePort, waitFor } from '../../scripts/lib/stack';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { TEST_SECRET_KEYS } from '../helpers/config';
import { buildImage, hostPid, podman } from '../helpers/image';
import {
  containerLogs,
  forHostNetwork,
  createPodmanSecret,
  helmTemplate,
  jobAsPod,
  kindsOf,
  kubeDown,
  kubePlay,
  playedContainers,
  playedPods,
  removePlayed,
} from '../helpers/kube';
import { assertFirstDelivery } from '../helpers/first-delivery';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { ADMIN_KEY, PAYLOAD_KEYS, apiClient, startTestStack, type TestStack } from '../helpers/stack';

/**
 * The Helm chart's manifests run for real: `helm template` with test/deploy/kube-play-values.yaml, then
 * `podman kube play --network host` (podman 4.3 plays the Deployments and the ConfigMaps; the existingSecrets are podman
 * secrets, as a platform makes its own) against a Temporal dev server, versitygw and a mail sink on loopback: the setup
 * Job's pod registers a namespace, the API and worker pods start on it, and a document is delivered, signed, to a real
 * receiver. For podman 4.3 the containers' ports are dropped (it would publish them; helpers/kube.ts says why). What
 * kube play skips (Services, the Ingress, the ServiceMonitor, Jobs, readiness and startup probes) is left to a real
 * cluster: docs/operations.md, "Played with podman kube play".
 */

const CHART = path.resolve(__dirname, '../../deploy/helm/webhook-delivery');
const VALUES = path.join(__dirname, 'kube-play-values.yaml');
/** The values file's namespace: made by the setup Job, not by the test stack. */
const NAMESPACE = 'kube-play';
/** Its IDEMPOTENCY_WINDOW, 2d: the namespace's retention the Job sets. */
const RETENTION_SECONDS = 2 * 24 * 3600;

describe('the Helm chart played by podman kube play', () => {
  // Podman's pods, containers and secrets are the machine's: this process's own are named after its release.
  const release = `kp${process.pid}`;
  const fullname = `${release}-webhook-delivery`;
  const secrets = [`${release}-secrets`, `${release}-s3`];
  let dir: string;
  let chartFile: string;
  let setupFile: string;
  let stack: TestStack;
  let receiver: Receiver;
  let api: ReturnType<typeof apiClient>;
  let apiPort: number;
  let metricsPort: number;
  let kinds: string[];

  before(async () => {
    const { image } = await buildImage();
    // A run killed halfway by the same pid's release (pids are reused) left nothing in the way.
    await removePlayed(`${release}-`, secrets);
    // Temporal, S3 and the mail sink only: the API and the worker are the chart's pods.
    stack = await startTestStack({}, { workers: 0, apis: 0 });
    receiver = await startReceiver(always(200));
    [apiPort, metricsPort] = [await freePort(), await freePort()];
    api = apiClient(`http://127.0.0.1:${apiPort}`);
    dir = mkdtempSync(path.join(tmpdir(), 'webhooks-kube-play-'));

    // existingSecret and s3.existingSecret: the Secrets a platform manages, never in the chart's values.
    const { config } = stack;
    await createPodmanSecret(secrets[0], {
      ADMIN_API_KEY: ADMIN_KEY,
      PAYLOAD_KEYS,
      SECRET_KEYS: TEST_SECRET_KEYS,
      SMTP_URL: config.SMTP_URL,
    });
    await createPodmanSecret(secrets[1], {
      S3_ACCESS_KEY_ID: config.S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: config.S3_SECRET_ACCESS_KEY,
    });

    const [repository, tag] = image.split(/:(?=[^:]+$)/);
    const args = [
      '-f',
      VALUES,
      '--set-string',
      [
        `image.repository=${repository}`,
        `image.tag=${tag}`,
        `existingSecret=${secrets[0]}`,
        `s3.existingSecret=${secrets[1]}`,
        `temporal.address=${config.TEMPORAL_ADDRESS}`,
        `s3.endpoint=${config.S3_ENDPOINT}`,
      ].join(','),
      '--set',
      `api.port=${apiPort},worker.metricsPort=${metricsPort}`,
    ];
    // The install's manifests without its hooks, and the pre-install hook apart, as `helm install` applies them.
    const chart = await helmTemplate(release, CHART, [...args, '--no-hooks']);
    kinds = kindsOf(chart);
    chartFile = path.join(dir, 'chart.yaml');
    writeFileSync(chartFile, forHostNetwork(chart));
    setupFile = path.join(dir, 'setup-pod.yaml');
    writeFileSync(
      setupFile,
      jobAsPod(await helmTemplate(release, CHART, [...args, '--show-only', 'templates/setup-job.yaml'])),
    );
  });

  after(async () => {
    // Whatever happened above: kube down of both files, then every pod of this release and its secrets.
    for (const file of [chartFile, setupFile]) if (file) await kubeDown(file).catch(() => {});
    await removePlayed(`${release}-`, secrets);
    await receiver?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The played containers' last lines, for a failure's message. */
  const logs = async () => {
    const containers = await playedContainers(`${release}-`);
    const parts = await Promise.all(
      containers.map(async (c) => `--- ${c.name} (${c.state}):\n${await containerLogs(c.name)}`),
    );
    return parts.join('\n');
  };

  it("the setup Job's pod registers the namespace, its retention and the search attributes, and exits 0", async () => {
    const connection = await Connection.connect({ address: stack.config.TEMPORAL_ADDRESS });
    try {
      await assert.rejects(
        connection.workflowService.describeNamespace({ namespace: NAMESPACE }),
        /not found/i,
        'the test stack has no such namespace: the Job makes it',
      );
      await kubePlay(setupFile);
      const pod = `${fullname}-setup`;
      const [setup] = (await playedContainers(pod)).filter((c) => c.pod === pod);
      assert.ok(setup, `the setup pod ${pod} has its container`);
      const exitCode = Number((await podman(['wait', setup.name], 120_000)).trim());
      assert.equal(exitCode, 0, await containerLogs(setup.name));

      const described = await connection.workflowService.describeNamespace({ namespace: NAMESPACE });
      assert.equal(Number(described.config?.workflowExecutionRetentionTtl?.seconds), RETENTION_SECONDS);
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
      for (const { name } of SEARCH_ATTRIBUTES) assert.ok(name in (customAttributes ?? {}), `${name} registered`);
    } finally {
      await connection.close();
    }
    await kubeDown(setupFile);
  });

  it('plays the Deployments: an API pod and a worker pod, each healthy; the kinds podman does not play are skipped', async (t) => {
    // The whole install: every template of the chart but the PodDisruptionBudgets (one replica each).
    assert.deepEqual([...new Set(kinds)].sort(), [
      'ConfigMap',
      'Deployment',
      'Ingress',
      'Service',
      'ServiceAccount',
      'ServiceMonitor',
    ]);
    const { stderr } = await kubePlay(chartFile);
    t.diagnostic(`rendered kinds: ${kinds.join(', ')}`);
    const pods = await playedPods(`${fullname}-`);
    assert.equal(pods.length, 2, `one pod per Deployment: ${pods.join(', ')}\n${stderr}`);
    assert.ok(pods.some((p) => p.startsWith(`${fullname}-api-pod`)));
    assert.ok(pods.some((p) => p.startsWith(`${fullname}-worker-pod`)));
    const healthy = (url: string) => async () => {
      const res = await fetch(url);
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    };
    // The worker bundles its workflows at start, on a read-only root with an emptyDir /tmp.
    try {
      await waitFor('the worker to poll', healthy(`http://127.0.0.1:${metricsPort}/healthz`), 90_000);
      await waitFor('the API to be healthy', healthy(`http://127.0.0.1:${apiPort}/healthz`), 60_000);
    } catch (err) {
      throw new Error(`${String(err)}\n${await logs()}`);
    }
  });

  it('runs each container as uid 1000, on a read-only root with /tmp writable, without capabilities, under seccomp', async () => {
    const containers = (await playedContainers(`${fullname}-`)).filter((c) => c.state === 'running');
    assert.equal(containers.length, 2, containers.map((c) => c.name).join(', '));
    for (const { name } of containers) {
      // The pod's securityContext (runAsUser, runAsGroup), not only the image's USER (`node`, a name).
      assert.equal((await podman(['inspect', '--format', '{{.Config.User}}', name])).trim(), '1000:1000', name);
      const status = readFileSync(`/proc/${await hostPid(name)}/status`, 'utf8');
      assert.match(status, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m, `${name} runs as uid 1000`);
      assert.match(status, /^Gid:\s+1000\s+1000\s+1000\s+1000$/m, `${name} runs as gid 1000`);
      // capabilities.drop [ALL] and allowPrivilegeEscalation false.
      assert.match(status, /^CapBnd:\s+0+$/m, `${name} has no capability`);
      assert.match(status, /^NoNewPrivs:\s+1$/m, `${name} cannot gain privileges`);
      // seccompProfile RuntimeDefault: podman's default profile, a filter (mode 2).
      assert.match(status, /^Seccomp:\s+2$/m, `${name} runs under a seccomp filter`);
      // The node user's own home is writable but for readOnlyRootFilesystem; /tmp is the emptyDir.
      const tryWrite = (file: string) =>
        `try { require('fs').writeFileSync('${file}', 'x'); console.log('written') } catch (e) { console.log(e.code) }`;
      const write = async (file: string) => (await podman(['exec', name, 'node', '-e', tryWrite(file)], 30_000)).trim();
      assert.equal(await write('/home/node/probe'), 'EROFS', `${name}: the root file system is read-only`);
      assert.equal(await write('/tmp/probe'), 'written', `${name}: /tmp is writable`);
    }
  });

  it('delivers a submitted document once, with a valid signature', async () => {
    await assertFirstDelivery(api, ADMIN_KEY, receiver, {
      customerId: 'kube',
      data: { from: 'the chart' },
      onTimeout: logs,
    });
  });

  it('kube down removes every pod and container it played', async () => {
    await kubeDown(chartFile);
    assert.deepEqual(await playedContainers(`${release}-`), []);
    assert.deepEqual(await playedPods(`${release}-`), []);
  });
});
