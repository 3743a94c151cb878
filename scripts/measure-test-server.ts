// How long the time-skipping test server takes from spawn to accepting TCP connections (the SDK waits ~5 s).
//   npx tsx scripts/measure-test-server.ts [runs]      (TEMPORAL_TEST_SERVER_PATH / _KIND pick the server)
import { spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { toolPath } from './lib/tools';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function measureOnce(executable: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(executable, [String(port)], { stdio: 'ignore' });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited early (code ${code}, signal ${signal})`));
  try {
    for (;;) {
      if (exited) throw new Error(`${executable} ${exited}`);
      if (await accepts(port)) return performance.now() - started;
      if (performance.now() - started > 30_000) throw new Error(`${executable}: port ${port} not open after 30 s`);
      await sleep(10);
    }
  } finally {
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const executable = toolPath('temporal-test-server');
  console.log(`${executable}`);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ms = await measureOnce(executable);
    times.push(ms);
    console.log(`run ${i + 1}: ${ms.toFixed(0)} ms`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    `first ${times[0]!.toFixed(0)} ms, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, ` +
      `max ${sorted[sorted.length - 1]!.toFixed(0)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
