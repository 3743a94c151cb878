import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cliTypeOf, SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';

describe('search attributes', () => {
  it('docker-compose registers every attribute the app writes, each with its type', () => {
    const script = readFileSync(path.join(__dirname, '../../deploy/temporal/register-search-attributes.sh'), 'utf8');
    const listed = /^ATTRIBUTES=\((.*)\)$/m.exec(script)![1].split(' ');
    assert.deepEqual(
      listed,
      SEARCH_ATTRIBUTES.map((key) => `${key.name}:${cliTypeOf(key)}`),
    );
  });
});
