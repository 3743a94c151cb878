import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { temporalConnectionOptions } from '../../src/lib/temporal';

// How the API, the worker and the setup command reach a Temporal cluster: plaintext on a private network, TLS with an
// API key (Temporal Cloud), or mutual TLS from the PEM files a Kubernetes secret mounts.

describe('the Temporal connection settings', () => {
  it('plaintext by default, as on a private network', () => {
    assert.deepEqual(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' })), {
      address: 'temporal:7233',
    });
  });

  it('an API key turns TLS on and goes with every call', () => {
    const options = temporalConnectionOptions(
      loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'key-123' }),
    );
    assert.deepEqual(options, { address: 'ns.acct.tmprl.cloud:7233', tls: true, apiKey: 'key-123' });
  });

  it('mutual TLS reads the certificate, key and CA from their files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tls-'));
    for (const name of ['client.pem', 'client.key', 'ca.pem']) writeFileSync(path.join(dir, name), `PEM of ${name}`);
    const options = temporalConnectionOptions(
      loadConfig({
        TEMPORAL_TLS_CERT_FILE: path.join(dir, 'client.pem'),
        TEMPORAL_TLS_KEY_FILE: path.join(dir, 'client.key'),
        TEMPORAL_TLS_CA_FILE: path.join(dir, 'ca.pem'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      }),
    );
    const tls = options.tls as Exclude<typeof options.tls, true | undefined>;
    assert.equal(tls.serverNameOverride, 'temporal.internal');
    assert.equal(String(tls.serverRootCACertificate), 'PEM of ca.pem');
    assert.equal(String(tls.clientCertPair?.crt), 'PEM of client.pem');
    assert.equal(String(tls.clientCertPair?.key), 'PEM of client.key');
  });

  it('a certificate without its key is refused at start, saying which', () => {
    assert.throws(
      () => loadConfig({ TEMPORAL_TLS_CERT_FILE: '/etc/temporal/client.pem' }),
      /TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together/,
    );
  });
});
