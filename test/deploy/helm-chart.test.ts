import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { toolPath } from '../../scripts/lib/tools';

// The Helm chart without a cluster: `helm lint`, then `helm template` of the default values and of the production
// example, each manifest validated against the Kubernetes 1.33 schemas (kubernetes-validate --strict: an unknown
// field is an error, as the API server's strict field validation has it). What only a cluster shows (Service routing,
// the Ingress, PDBs in a drain, the ServiceMonitor scraped) is left to one: docs/operations.md, "Helm".

const run = promisify(execFile);
const CHART = path.resolve(__dirname, '../../deploy/helm/webhook-delivery');
const PRODUCTION = path.join(CHART, 'examples/production-values.yaml');
const KUBERNETES = '1.33.0';
/** The settings that are secrets (src/config.ts): never a value in a manifest. */
const SECRET_SETTINGS = [
  'ADMIN_API_KEY',
  'PAYLOAD_KEYS',
  'SECRET_KEYS',
  'SMTP_URL',
  'OPERATOR_WEBHOOK_SECRET',
  'TEMPORAL_API_KEY',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
];

// Rendered YAML, read field by field by the assertions (a wrong path fails them).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = { kind: string; metadata: { name: string }; spec?: any } & Record<string, unknown>;

async function helm(args: string[]): Promise<string> {
  return (await run(toolPath('helm'), args, { maxBuffer: 16 << 20, timeout: 60_000 })).stdout;
}

async function rendered(...values: string[]): Promise<{ text: string; manifests: Manifest[] }> {
  const text = await helm(['template', 'webhooks', CHART, ...values.flatMap((file) => ['-f', file])]);
  const manifests = parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
  return { text, manifests };
}

/** kubernetes-validate on the manifests: its exit code and what it said. */
async function validate(text: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      toolPath('kubernetes-validate'),
      ['--strict', '--kubernetes-version', KUBERNETES, '-'],
      { timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ ok: !err, output: `${stdout}${stderr}` }),
    );
    child.stdin!.end(text);
  });
}

const byKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);

describe('the Helm chart', () => {
  it('passes helm lint, with the default values and the production example', async () => {
    for (const values of [[], ['-f', PRODUCTION]]) {
      const output = await helm(['lint', CHART, ...values]);
      assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  for (const [name, values] of [
    ['default values', []],
    ['the production example', [PRODUCTION]],
  ] as const) {
    it(`renders manifests valid against the Kubernetes ${KUBERNETES} schemas: ${name}`, async () => {
      const { text, manifests } = await rendered(...values);
      const result = await validate(text);
      assert.ok(result.ok, result.output);
      // Every manifest but the Prometheus operator's own kind was checked against a schema.
      const checked = result.output.match(/passed for resource/g)?.length ?? 0;
      assert.equal(checked, manifests.filter((m) => m.kind !== 'ServiceMonitor').length, result.output);

      const deployments = byKind(manifests, 'Deployment');
      assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), [
        'webhooks-webhook-delivery-api',
        'webhooks-webhook-delivery-worker',
      ]);
      for (const deployment of deployments) {
        const pod = deployment.spec.template.spec;
        assert.equal(pod.securityContext.runAsNonRoot, true, deployment.metadata.name);
        for (const container of pod.containers) {
          assert.equal(container.securityContext.readOnlyRootFilesystem, true);
          assert.equal(container.securityContext.allowPrivilegeEscalation, false);
          // Ready once its dependencies answer (GET /healthz); alive while it answers at all (the API's liveness is its
          // port: an outage of Temporal or S3 must not restart every pod).
          assert.equal(container.readinessProbe.httpGet.path, '/healthz');
          assert.ok(container.livenessProbe.httpGet || container.livenessProbe.tcpSocket, 'a liveness probe');
          assert.ok(container.resources.requests, 'resources requested');
        }
      }
      assert.equal(byKind(manifests, 'PodDisruptionBudget').length, 2);
      assert.equal(byKind(manifests, 'Job').length, 1, 'the setup Job registers the namespace and search attributes');
    });
  }

  it('reads every secret of the production example from the Secrets the platform manages, and renders none', async () => {
    const { manifests } = await rendered(PRODUCTION);
    assert.equal(byKind(manifests, 'Secret').length, 0);
    const secretNames = new Set<string>();
    for (const deployment of byKind(manifests, 'Deployment')) {
      const pod = deployment.spec.template.spec;
      for (const container of pod.containers) {
        for (const from of container.envFrom ?? []) if (from.secretRef) secretNames.add(from.secretRef.name);
        for (const env of container.env ?? []) {
          if (env.valueFrom?.secretKeyRef) secretNames.add(env.valueFrom.secretKeyRef.name);
          // No secret's value inline.
          assert.ok(!SECRET_SETTINGS.includes(env.name) || env.value === undefined, env.name);
        }
      }
      for (const volume of pod.volumes ?? []) if (volume.secret) secretNames.add(volume.secret.secretName);
    }
    for (const name of ['webhooks-secrets', 'webhooks-s3', 'webhooks-temporal-client-tls']) {
      assert.ok(secretNames.has(name), `${name} is read (${[...secretNames].join(', ')})`);
    }
    const monitors = byKind(manifests, 'ServiceMonitor');
    assert.equal(monitors.length, 1);
    assert.ok(monitors[0].spec.endpoints.length > 0);
  });

  it('the validator refuses what the API server would: an unknown field, a wrong type', async () => {
    const { manifests } = await rendered();
    const deployment = byKind(manifests, 'Deployment')[0];
    const withUnknown = { ...deployment, spec: { ...deployment.spec, replicaz: 2 } };
    const wrongType = { ...deployment, spec: { ...deployment.spec, replicas: 'two' } };
    for (const bad of [withUnknown, wrongType]) {
      const result = await validate(JSON.stringify(bad));
      assert.equal(result.ok, false, result.output);
    }
  });
});
