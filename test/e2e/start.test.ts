import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, freePort, waitFor } from '../../scripts/lib/stack';
import { always, startReceiver } from '../helpers/receiver';

/** `npm start` (scripts/start.ts) with the given settings, its output collected. */
function npmStart(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Every port npm start listens on, free ones, and a data directory of its own: a second stack beside the first. */
async function ownSettings(dir: string) {
  const [api, metrics, temporal, ui, smtp, s3] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  return {
    PORT: String(api),
    WORKER_METRICS_PORT: String(metrics),
    TEMPORAL_PORT: String(temporal),
    TEMPORAL_UI_PORT: String(ui),
    SMTP_PORT: String(smtp),
    S3_ENDPOINT: `http://localhost:${s3}`,
    DATA_DIR: dir,
  };
}

describe('npm start: every port from config, a clear message when one is taken, and a "try it" that works', () => {
  const dirs: string[] = [];
  const running: ChildProcess[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'webhooks-start-'));
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a port already taken stops it before anything starts, naming the setting to change', async () => {
    const settings = await ownSettings(tempDir());
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(Number(settings.TEMPORAL_PORT), '127.0.0.1', resolve));
    try {
      const start = npmStart(settings);
      running.push(start.child);
      assert.equal(await start.exited, 1);
      assert.match(start.output(), new RegExp(`port ${settings.TEMPORAL_PORT} is already taken \\(TEMPORAL_PORT\\)`));
      assert.doesNotMatch(start.output(), /Local stack is up/);
    } finally {
      squatter.close();
    }
  });

  it('runs on ports of its own, and the printed "try it" delivers a first document', async () => {
    const settings = await ownSettings(tempDir());
    const start = npmStart(settings);
    running.push(start.child);
    await waitFor('the stack to be up', async () => assert.match(start.output(), /Try it/), 120_000);
    const out = start.output();
    assert.match(out, new RegExp(`API +http://localhost:${settings.PORT}`));
    assert.match(out, new RegExp(`Temporal Web UI +http://localhost:${settings.TEMPORAL_UI_PORT}`));

    // The block's curl commands as printed (the receiver line aside: the test has its own receiver).
    const receiver = await startReceiver(always(200));
    try {
      const block = out.slice(out.indexOf('Try it'));
      const lines = block.split('\n').slice(1);
      const script = lines
        .slice(
          1,
          lines.findIndex((line) => !line.startsWith('    ')),
        )
        .map((line) => line.trim())
        .join('\n')
        .replaceAll('http://localhost:9999/hook', receiver.url);
      const answer = execFileSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8', timeout: 60_000 });
      await waitFor('the first delivery', async () => assert.equal(receiver.received.length, 1));
      const delivered = receiver.received[0];
      assert.deepEqual(JSON.parse(delivered.body).data, { hello: 'world' });
      assert.match(String(delivered.headers['webhook-signature']), /^v1,/);
      assert.match(answer, /"id":"evt_1"/);
    } finally {
      await receiver.close();
    }

    start.child.kill('SIGINT');
    assert.equal(await start.exited, 0);
  });
});
