import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingMessage['headers'];
  body: string;
  /** When it arrived, on the clock the test chooses (the time-skipping server's clock in workflow tests). */
  at: number;
}

/**
 * What the receiver does with the n-th request (1-based): answer a status (after `delayMs`), hang, or reset the
 * connection.
 */
export type Behaviour = (
  n: number,
  req: IncomingMessage,
) => { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'hang' | 'reset';

/**
 * A real HTTP server standing in for a customer's endpoint; it records every request it sees. It listens on loopback,
 * or on `host` (e.g. the gateway of a container network, for senders in containers).
 */
export async function startReceiver(
  behaviour: Behaviour,
  clock: () => Promise<number> | number = Date.now,
  { host = '127.0.0.1' }: { host?: string } = {},
) {
  const received: ReceivedRequest[] = [];
  let current = behaviour;
  // Requests whose connection is still open (answered, reset or given up by the sender closes them).
  let open = 0;
  let mostOpen = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    open++;
    mostOpen = Math.max(mostOpen, open);
    res.on('close', () => open--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const at = await clock();
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString(), at });
      const action = current(received.length, req);
      if (action === 'hang') return;
      if (action === 'reset') {
        req.socket.destroy();
        return;
      }
      if (action.delayMs) await new Promise((resolve) => setTimeout(resolve, action.delayMs));
      if (res.destroyed) return;
      res.writeHead(action.status, action.headers);
      res.end(action.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/hook`,
    received,
    /** Requests waiting for their answer now, and the most there ever were at once. */
    open: () => open,
    mostOpen: () => mostOpen,
    setBehaviour(next: Behaviour) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
export const always =
  (status: number): Behaviour =>
  () => ({ status });

/** The most requests any one-second window saw (a sliding window over the arrival times). */
export function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= 1_000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
