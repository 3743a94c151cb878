import { request } from 'undici';

/** One POST, answered 2xx or thrown: what the naive workflow's single activity does. */
export function createNaiveActivities() {
  return {
    async post(url: string, id: string): Promise<void> {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id },
        body: JSON.stringify({ id, padding: 'x'.repeat(1024) }),
      });
      await response.body.dump();
      if (response.statusCode >= 300) throw new Error(`HTTP ${response.statusCode}`);
    },
  };
}
