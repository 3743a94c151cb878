import { loadConfig, type Config } from '../../src/config';

/** Test configuration: defaults plus overrides, never the developer's shell environment. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ALLOW_PRIVATE_URLS: 'true', LOG_LEVEL: 'silent', ...overrides });
}
