import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, startChild, type Child, type ChildOutput } from '../../scripts/lib/stack';

const run = promisify(execFile);

/** `podman …`, bounded in time; its stdout. */
export async function podman(args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run('podman', args, { timeout: timeoutMs, maxBuffer: 16 << 20 });
  return stdout;
}

/**
 * scripts/build-image.sh: the image of this checkout, built or found up to date (warm: a second or two; cold, with the
 * base made by debootstrap and every npm package fetched: minutes, hence the bound).
 */
export async function buildImage(timeoutMs = 15 * 60_000): Promise<{ image: string; size: number }> {
  // Podman and debootstrap, from Debian when missing (as root; CI runs the same script), as the browser test does.
  await run('bash', [path.join(ROOT, 'scripts/install-podman.sh')], { timeout: 10 * 60_000 });
  await podman(['--version']).catch((err: unknown) => {
    throw new Error(`podman is needed to build and run the image (docs/operations.md, "The image"): ${String(err)}`);
  });
  const { stdout } = await run('bash', [path.join(ROOT, 'scripts/build-image.sh')], {
    cwd: ROOT,
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  const field = (name: string) => stdout.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];
  const image = field('image');
  const size = Number(field('size'));
  if (!image || !size) throw new Error(`build-image.sh printed no image/size:\n${stdout}`);
  return { image, size };
}

export interface Container extends Child {
  /** The container's name (podman's handle for it). */
  container: string;
}

/**
 * `podman run --rm` of `command` in `image`, on the host's network (of this process's network namespace: loopback
 * services of the test stack are reachable, and a test under `unshare -n` keeps them private). Only the variables of
 * `env` reach the container (their values through podman's environment, not its command line). stop() signals the
 * container itself (a signal to the podman client would not reach it for SIGKILL) and removes it in any case.
 */
export function startContainer(
  name: string,
  image: string,
  command: string[],
  { output, env }: ChildOutput & { env: Record<string, string> },
): Container {
  const container = `${OWN_PREFIX}${name}-${Date.now().toString(36)}`;
  const args = ['run', '--rm', '--pull=never', '--network', 'host', '--name', container];
  for (const key of Object.keys(env)) args.push('-e', key);
  const child = startChild(name, 'podman', [...args, image, ...command], { output, env });
  const exited = new Promise<void>((resolve) => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) resolve();
    else child.process.once('exit', () => resolve());
  });
  return {
    ...child,
    container,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      try {
        await podman(['kill', '--signal', signal, container], 15_000);
      } catch {
        // Not running (any more): nothing to signal.
      }
      // SIGTERM: the process finishes what it holds (a worker drains its activities); then it is removed regardless.
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000).unref())]);
      await removeContainers([container]);
      child.process.kill('SIGKILL');
    },
  };
}

/** Every container this test process starts is named so (see removeOwnContainers). */
const OWN_PREFIX = `webhooks-e2e-${process.pid}-`;

/** The containers this process started (`all`: running or not), by name. */
export async function ownContainers(all = false): Promise<string[]> {
  const args = ['ps', '--format', '{{.Names}}', '--filter', `name=^${OWN_PREFIX}`, ...(all ? ['--all'] : [])];
  return (await podman(args, 30_000)).split('\n').filter((n) => n.startsWith(OWN_PREFIX));
}

/** The main process of a running container, as the host sees it (its uid is what the image's USER made it). */
export async function hostPid(container: string): Promise<number> {
  const pid = Number((await podman(['inspect', '--format', '{{.State.Pid}}', container])).trim());
  if (!pid) throw new Error(`${container} is not running`);
  return pid;
}

/** Removes every container this process started and left (a stack that failed halfway has no stop() to call). */
export async function removeOwnContainers() {
  await removeContainers(await ownContainers(true));
}

/** `podman rm -f` of these containers, if they exist (cleanup after a test, whatever happened). */
async function removeContainers(names: string[]) {
  if (names.length) await podman(['rm', '--force', '--ignore', '--time', '5', ...names], 30_000).catch(() => {});
}
