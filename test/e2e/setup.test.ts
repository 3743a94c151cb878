import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { freePort, ROOT, startTemporal, type Child } from '../../scripts/lib/stack';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';

// `node dist/setup.js`, the image's setup command (the Helm chart's Job, the compose file's setup service), against a
// real Temporal server: a namespace nobody made is registered with its retention and every search attribute the log
// and the desk query, and running it again changes nothing and succeeds.

const run = promisify(execFile);
const NAMESPACE = 'made-by-setup';

describe('the setup command prepares a namespace', () => {
  let dir: string;
  let temporal: Child;
  let address: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'setup-'));
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    temporal = await startTemporal({
      port,
      dbFile: path.join(dir, 'temporal.db'),
      retentionMs: 86_400_000,
      output: path.join(dir, 'temporal.log'),
    });
  });
  after(async () => {
    await temporal?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const setup = () =>
    run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/setup.ts')], {
      cwd: ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: NAMESPACE, IDEMPOTENCY_WINDOW: '7d' },
      timeout: 120_000,
    });

  it('registers the namespace, its retention and the search attributes, and runs again unchanged', async () => {
    const first = await setup();
    assert.match(first.stdout, /namespace and search attributes ready/);
    const connection = await Connection.connect({ address });
    try {
      const { config } = await connection.workflowService.describeNamespace({ namespace: NAMESPACE });
      assert.equal(Number(config?.workflowExecutionRetentionTtl?.seconds), 7 * 86_400);
      const listed = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
      for (const { name } of SEARCH_ATTRIBUTES) {
        assert.ok(name in (listed.customAttributes ?? {}), `${name} registered`);
      }
      const again = await setup();
      assert.match(again.stdout, /namespace and search attributes ready/);
    } finally {
      await connection.close();
    }
  });
});
