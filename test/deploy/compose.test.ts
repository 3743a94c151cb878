import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { generatePayloadKey } from '../../src/lib/payload-codec';
import { createS3Client } from '../../src/lib/s3';
import { freePort, ROOT, waitFor } from '../../scripts/lib/stack';
import { toolPath } from '../../scripts/lib/tools';
import { podman } from '../helpers/image';
import { assertFirstDelivery } from '../helpers/first-delivery';
import { always, startReceiver, type Receiver } from '../helpers/receiver';
import { listKeys } from '../helpers/s3';
import { apiClient } from '../helpers/stack';

const run = promisify(execFile);

/**
 * docker-compose.yml as an operator runs it: Docker's Compose v2 over podman (scripts/compose.sh), every image built
 * on this machine (scripts/build-stack-images.sh). Temporal on PostgreSQL, versitygw, Mailpit, the worker and the
 * API come up in order on their own network; a document is delivered, signed, to a receiver on the host, a failing
 * endpoint is suspended and its contact's email arrives in Mailpit.
 */
describe('the compose stack: docker-compose.yml up, a delivery, a suspension and its email', () => {
  const project = `wd-compose-test-${process.pid}`;
  const adminKey = 'compose-admin-key-0123456789';
  let env: Record<string, string>;
  let api: ReturnType<typeof apiClient>;
  let ok: Receiver;
  let failing: Receiver;
  let ports: Record<'api' | 'temporal' | 's3' | 'smtp' | 'mail', number>;

  const compose = async (args: string[], timeoutMs = 120_000) =>
    (
      await run('bash', [path.join(ROOT, 'scripts/compose.sh'), ...args], {
        cwd: ROOT,
        env,
        timeout: timeoutMs,
        maxBuffer: 64 << 20,
      })
    ).stdout;
  /** What podman knows of a service's container (compose names them <project>-<service>-1). */
  const state = async (service: string) =>
    JSON.parse(await podman(['inspect', '--format', '{{json .State}}', `${project}-${service}-1`])) as {
      Status: string;
      ExitCode: number;
      StartedAt: string;
      FinishedAt: string;
    };

  before(async () => {
    ports = { api: await freePort(), temporal: await freePort(), s3: await freePort(), smtp: 0, mail: 0 };
    ports.smtp = await freePort();
    ports.mail = await freePort();
    env = {
      ...(process.env as Record<string, string>),
      COMPOSE_PROJECT_NAME: project,
      ADMIN_API_KEY: adminKey,
      PAYLOAD_KEYS: generatePayloadKey('compose'),
      SECRET_KEYS: generatePayloadKey('compose-secrets'),
      API_PORT: String(ports.api),
      TEMPORAL_PORT: String(ports.temporal),
      S3_PORT: String(ports.s3),
      MAIL_SMTP_PORT: String(ports.smtp),
      MAIL_UI_PORT: String(ports.mail),
      // The receivers listen on the compose network's gateway, a private address.
      ALLOW_PRIVATE_URLS: 'true',
      LOG_LEVEL: 'warn',
      // The suspension email waits this long for more news (1 min by default).
      NOTIFICATION_WINDOW: '1s',
    };
    // Cold (the base by debootstrap, PostgreSQL from Debian, every npm package): minutes, hence the bound.
    await compose(['up', '-d', '--wait'], 15 * 60_000);
    api = apiClient(`http://127.0.0.1:${ports.api}`);
    const gateway = (
      await podman(['network', 'inspect', `${project}_default`, '--format', '{{range .Subnets}}{{.Gateway}}{{end}}'])
    ).trim();
    ok = await startReceiver(always(200), Date.now, { host: gateway });
    failing = await startReceiver(always(500), Date.now, { host: gateway });
  });
  after(async () => {
    await ok?.close();
    await failing?.close();
    // Containers, network and volumes of this project, whatever happened above.
    await compose(['down', '-v', '--timeout', '5']).catch((err: unknown) => console.error(err));
    const left = await podman(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]);
    if (left.trim()) await podman(['rm', '-f', ...left.trim().split('\n')]);
  });

  it('starts Temporal after PostgreSQL, and the worker and API after the search attributes are registered', async () => {
    const [postgres, temporal, setup, worker, apiState] = await Promise.all(
      ['postgresql', 'temporal', 'temporal-admin-tools', 'worker', 'api'].map(state),
    );
    assert.ok(temporal.StartedAt > postgres.StartedAt, 'Temporal starts once PostgreSQL is healthy');
    assert.equal(setup.Status, 'exited');
    assert.equal(setup.ExitCode, 0, 'the one-shot setup succeeded');
    assert.ok(setup.StartedAt > temporal.StartedAt);
    for (const app of [worker, apiState]) {
      assert.equal(app.Status, 'running');
      assert.ok(app.StartedAt > setup.FinishedAt, 'the app starts after the setup exited');
    }
    // The attributes, asked of Temporal's published port with the CLI.
    const { stdout } = await run(toolPath('temporal'), [
      'operator',
      'search-attribute',
      'list',
      '--address',
      `127.0.0.1:${ports.temporal}`,
      '--output',
      'json',
    ]);
    const names = Object.keys((JSON.parse(stdout) as { customAttributes: Record<string, string> }).customAttributes);
    for (const name of ['CustomerId', 'Environment', 'DeliveryStatus', 'EndpointId', 'CreatedAt']) {
      assert.ok(names.includes(name), `${name} registered: ${names.join(', ')}`);
    }
  });

  it('delivers a document once, signed', async () => {
    await assertFirstDelivery(api, adminKey, ok, { customerId: 'acme', data: { from: 'compose' } });
  });

  it('suspends a failing endpoint, keeps its document in the bucket and emails its contact through Mailpit', async (t) => {
    const started = Date.now();
    const created = await api('POST', '/v1/customers', adminKey, { id: 'wayne', name: 'Wayne' });
    const key = created.body.apiKeys.production as string;
    const put = await api('PUT', '/v1/production/webhook', key, {
      url: failing.url,
      suspensionEmail: 'ops@wayne.example',
      retrySchedule: '1s,1s',
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await api('POST', '/v1/production/documents', adminKey, { customerId: 'wayne', id: 'w1', type: 'event', data: {} });
    const webhook = await waitFor(
      'the suspension',
      async () => {
        const res = await api('GET', '/v1/production/webhook', key);
        assert.equal(res.body.status, 'suspended');
        return res.body;
      },
      120_000,
    );
    t.diagnostic(`suspended after ${Date.now() - started} ms`);
    assert.equal(webhook.lastError, 'HTTP 500');
    assert.equal(failing.received.length, 3, 'the first attempt and two retries');

    // The compose stack's S3 (versitygw, published on the host) holds the document, pending: written just after the
    // suspension is recorded (the document reports its exhausted retries, then stores itself).
    const config = loadConfig({
      S3_ENDPOINT: `http://127.0.0.1:${ports.s3}`,
      S3_ACCESS_KEY_ID: 'local-access-key',
      S3_SECRET_ACCESS_KEY: 'local-secret-key',
      SECRET_KEYS: env.SECRET_KEYS,
    });
    const s3 = createS3Client(config);
    try {
      await waitFor('the document in the bucket', async () =>
        assert.equal((await listKeys(s3, config.BUCKET_PRODUCTION, 'pending/wayne/')).length, 1),
      );
    } finally {
      s3.destroy();
    }

    // Mailpit's API (published on the host) has the email, sent by the worker over SMTP.
    const mail = await waitFor('the suspension email in Mailpit', async () => {
      const res = await fetch(`http://127.0.0.1:${ports.mail}/api/v1/messages`);
      const { messages } = (await res.json()) as {
        messages: { To: { Address: string }[]; Subject: string; ID: string }[];
      };
      const found = messages.filter((m) => m.To.some((to) => to.Address === 'ops@wayne.example'));
      assert.equal(found.length, 1);
      return found[0];
    });
    t.diagnostic(`the email arrived after ${Date.now() - started} ms`);
    assert.match(mail.Subject, /suspended/i);
    const text = (await (await fetch(`http://127.0.0.1:${ports.mail}/api/v1/message/${mail.ID}`)).json()) as {
      Text: string;
    };
    assert.ok(text.Text.includes(failing.url), 'the email names the endpoint');
  });
});
