import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Hold {
  matches: (method: string, path: string) => boolean;
  /** How many more requests it holds. */
  left: number;
  waiting: (() => void)[];
  released: boolean;
  arrived: Promise<void>;
  arrive: () => void;
}

/**
 * A pass-through HTTP proxy in front of the S3 server that can hold chosen requests, as a slow or stalled S3 would.
 * Requests go through byte for byte, Host header included, so their SigV4 signatures still verify. A held request
 * whose client gives up (a timeout) is dropped, never forwarded: an upload cut short is not stored.
 */
export async function startS3Proxy(target: string) {
  const upstream = new URL(target);
  const holds: Hold[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const hold = holds.find(
        (h) => !h.released && h.left > 0 && h.matches(req.method!, decodeURIComponent(req.url!.split('?')[0])),
      );
      if (hold) {
        hold.left -= 1;
        hold.arrive();
        let gaveUp = false;
        res.on('close', () => (gaveUp = !res.writableFinished));
        await new Promise<void>((resolve) => hold.waiting.push(resolve));
        if (gaveUp || res.destroyed) return;
      }
      const forwarded = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode!, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on('error', () => res.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    /**
     * Holds the next `times` requests whose method and path (decoded, without the query) match, until `release()`. `arrived` resolves
     * once the first of them is held.
     */
    hold(matches: (method: string, path: string) => boolean, times = Infinity) {
      let arrive!: () => void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const hold: Hold = { matches, left: times, waiting: [], released: false, arrived, arrive };
      holds.push(hold);
      return {
        arrived,
        release() {
          hold.released = true;
          for (const resume of hold.waiting.splice(0)) resume();
        },
      };
    },
    async close() {
      for (const hold of holds) {
        hold.released = true;
        for (const resume of hold.waiting.splice(0)) resume();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type S3Proxy = Awaited<ReturnType<typeof startS3Proxy>>;
