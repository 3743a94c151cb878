import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CLIENT_TYPES_FILE, OPENAPI_FILE, clientTypes, openApiJson } from '../../scripts/openapi';

// docs/openapi.json and the generated client types are committed, so users read and generate without a running
// server; they must be what the code generates now.
describe('the committed OpenAPI files', () => {
  it('docs/openapi.json is the document GET /openapi.json serves (else run npm run openapi)', () => {
    assert.equal(readFileSync(OPENAPI_FILE, 'utf8'), openApiJson());
  });

  it('examples/client/api.d.ts is what openapi-typescript generates from it (else run npm run openapi)', async () => {
    assert.equal(readFileSync(CLIENT_TYPES_FILE, 'utf8'), await clientTypes());
  });
});
