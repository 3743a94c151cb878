import { loadConfig, type Config } from '../../src/config';
import { generatePayloadKey } from '../../src/lib/payload-codec';

/** Signing secrets are sealed everywhere, in tests too, with this process's key. */
export const TEST_SECRET_KEYS = generatePayloadKey('test-secrets');

/** Test configuration: defaults plus overrides, never the developer's shell environment. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  // Breakers (which count failures in real time) stay closed unless a test asks for them: days of retries pass in a
  // few real seconds under time skipping.
  return loadConfig({
    ALLOW_PRIVATE_URLS: 'true',
    LOG_LEVEL: 'silent',
    BREAKER_FAILURES: '1000',
    SECRET_KEYS: TEST_SECRET_KEYS,
    ...overrides,
  });
}
