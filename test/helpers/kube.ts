import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { toolPath } from '../../scripts/lib/tools';
import { podman } from './image';

// `podman kube play` of the Helm chart's manifests (test/deploy/kube-play.test.ts). Podman's state is the machine's,
// not the test's network namespace: everything made here is named after the test's release, so a run cleans up its
// own pods and secrets only.

const run = promisify(execFile);

/** `helm template <release> <chart> <args…>`: the manifests, as one multi-document YAML text. */
export async function helmTemplate(release: string, chart: string, args: string[]): Promise<string> {
  const { stdout } = await run(toolPath('helm'), ['template', release, chart, ...args], {
    maxBuffer: 16 << 20,
    timeout: 60_000,
  });
  return stdout;
}

/** The kinds of a rendered text, in order (the Grafana dashboard's ConfigMap counts as one). */
export function kindsOf(text: string): string[] {
  return manifestsOf(text).map((m) => m.kind);
}

// Rendered YAML, changed field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = { kind: string; metadata: { name: string; labels?: object }; spec: any };

const manifestsOf = (text: string) =>
  parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => !!doc);

/**
 * The manifests as podman 4.3 can play them on the host's network: it publishes every containerPort on the host (a
 * missing hostPort taken as the containerPort), which host networking refuses ("PortMappings can only be used with
 * Bridge or slirp4netns networking"). In a cluster a containerPort only names a port; so the ports are dropped and the
 * probes' named ports resolved to their numbers, as the kubelet resolves them. Nothing else changes.
 */
export function forHostNetwork(text: string): string {
  return manifestsOf(text)
    .map((manifest) => {
      const pod =
        manifest.kind === 'Deployment'
          ? manifest.spec.template.spec
          : manifest.kind === 'Pod'
            ? manifest.spec
            : undefined;
      for (const container of pod?.containers ?? []) {
        const ports = new Map<string, number>(
          (container.ports ?? []).map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
        );
        delete container.ports;
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
          const handler = container[probe]?.httpGet ?? container[probe]?.tcpSocket;
          if (handler && typeof handler.port === 'string') {
            const number = ports.get(handler.port);
            if (number === undefined) throw new Error(`${container.name}: ${probe} names no port of the container`);
            handler.port = number;
          }
        }
      }
      return stringify(manifest);
    })
    .join('---\n');
}

/**
 * The Job's pod as a Pod manifest: what the Job controller would create. Podman 4.3 skips the kind Job; its pod
 * template (the same containers, environment, security context and volumes) is played instead.
 */
export function jobAsPod(jobText: string): string {
  const [job] = manifestsOf(jobText).filter((doc) => doc.kind === 'Job');
  if (!job) throw new Error('no Job in the rendered text');
  const { metadata, spec } = job.spec.template;
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: job.metadata.name, labels: metadata?.labels },
    spec,
  });
}

/**
 * A Secret the platform manages (the chart's existingSecret), made as a podman secret for kube play's envFrom and
 * secretKeyRef: a JSON object of base64 values (a Secret's `data`), the format kube play has read since it took
 * secrets, and still reads first. A `kind: Secret` played by podman 4.3 is stored as YAML that its own envFrom then
 * fails to parse ("secret … is not valid JSON": podman issue 16269, fixed after 4.3 by podman PR 16631).
 */
export async function createPodmanSecret(name: string, data: Record<string, string>): Promise<void> {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  // Through podman's environment (stdin from Node is a socket, which `podman secret create NAME -` refuses).
  await run('podman', ['secret', 'create', '--env', name, 'SECRET_DATA'], {
    timeout: 30_000,
    env: { ...process.env, SECRET_DATA: JSON.stringify(encoded) },
  });
}

/** `podman kube play --network host <file>`: the pods share the caller's network namespace (its loopback). */
export async function kubePlay(file: string): Promise<{ stdout: string; stderr: string }> {
  return run('podman', ['kube', 'play', '--network', 'host', file], { timeout: 120_000, maxBuffer: 16 << 20 });
}

/** `podman kube down <file>`: stops and removes the pods kube play made from it. */
export async function kubeDown(file: string): Promise<void> {
  await podman(['kube', 'down', file], 120_000);
}

export interface PlayedContainer {
  name: string;
  pod: string;
  state: string;
  exitCode: number;
}

/** Every container (infra ones excluded) of the pods whose name starts with `prefix`, running or not. */
export async function playedContainers(prefix: string): Promise<PlayedContainer[]> {
  const listed = JSON.parse(
    await podman(['ps', '--all', '--pod', '--format', 'json', '--filter', `name=^${prefix}`], 30_000),
  ) as { Names: string[]; PodName: string; State: string; ExitCode: number; IsInfra: boolean }[];
  return listed
    .filter((c) => !c.IsInfra)
    .map((c) => ({ name: c.Names[0], pod: c.PodName, state: c.State, exitCode: c.ExitCode }));
}

/** The pods whose name starts with `prefix`. */
export async function playedPods(prefix: string): Promise<string[]> {
  const listed = JSON.parse(await podman(['pod', 'ps', '--format', 'json', '--filter', `name=^${prefix}`], 30_000)) as
    { Name: string }[] | null;
  return (listed ?? []).map((p) => p.Name);
}

/** A container's output (stdout and stderr), for a failure's message. */
export async function containerLogs(name: string, tail = 40): Promise<string> {
  try {
    const { stdout, stderr } = await run('podman', ['logs', '--tail', String(tail), name], {
      timeout: 30_000,
      maxBuffer: 16 << 20,
    });
    return `${stdout}${stderr}`;
  } catch (err) {
    return String(err);
  }
}

/**
 * Whatever a run left, even one that failed halfway: the pods named `prefix…` with their containers, and the podman
 * secrets it made (kube down removes none: not those kube play makes from a `kind: Secret` in podman 4.3, issue 17071,
 * nor those made apart).
 */
export async function removePlayed(prefix: string, secrets: string[]): Promise<void> {
  const pods = await playedPods(prefix).catch(() => []);
  if (pods.length) await podman(['pod', 'rm', '--force', '--ignore', ...pods], 60_000).catch(() => {});
  for (const secret of secrets) await podman(['secret', 'rm', secret], 30_000).catch(() => {});
}
