import createClient from 'openapi-fetch';
import type { paths } from './api';

// A typed client from the OpenAPI document (docs/api.md, "OpenAPI"): the paths, parameters, bodies and answers below
// are checked by the compiler against examples/client/api.d.ts, which `npm run openapi` generates.
// Run: API_KEY=sk_production_... npx tsx examples/client/pending.ts

/** Acknowledges every pending event of the production environment after reading it; returns how many. */
export async function drainPendingEvents(baseUrl: string, apiKey: string): Promise<number> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
  let drained = 0;
  let cursor: string | undefined;
  do {
    const { data: page, error } = await api.GET('/v1/{env}/pending', {
      params: { path: { env: 'production' }, query: { type: 'event', limit: 100, cursor } },
    });
    if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
    for (const entry of page.data) {
      const pulled = await api.GET('/v1/{env}/pending/{id}', { params: { path: { env: 'production', id: entry.id } } });
      if (pulled.error) continue; // acknowledged or redelivered meanwhile
      console.log(entry.id, entry.expiresAt, JSON.stringify(pulled.data.data));
      const ack = await api.DELETE('/v1/{env}/pending/{id}', { params: { path: { env: 'production', id: entry.id } } });
      if (ack.response.status === 204) drained++;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return drained;
}

if (require.main === module) {
  drainPendingEvents(process.env.API_URL ?? 'http://localhost:3000', process.env.API_KEY ?? '').then(
    (n) => console.log(`${n} acknowledged`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
