import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export type ToolName = 'temporal' | 'versitygw' | 'temporal-test-server';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, '.tools', 'bin');
const ENV_VAR: Record<ToolName, string> = {
  temporal: 'TEMPORAL_CLI_PATH',
  versitygw: 'VERSITYGW_PATH',
  'temporal-test-server': 'TEMPORAL_TEST_SERVER_PATH',
};

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Where a server binary is: its env var, then PATH, then .tools/bin, else scripts/install-tools.sh obtains it. */
export function toolPath(name: ToolName): string {
  const explicit = process.env[ENV_VAR[name]];
  if (explicit) {
    if (!executable(explicit)) throw new Error(`${ENV_VAR[name]}=${explicit} is not an executable file`);
    return explicit;
  }
  const found = onPath(name) ?? (executable(path.join(BIN, name)) ? path.join(BIN, name) : undefined);
  if (found) return found;
  execFileSync('bash', [path.join(ROOT, 'scripts', 'install-tools.sh')], { stdio: ['ignore', 2, 2] });
  if (!executable(path.join(BIN, name))) throw new Error(`${name} could not be obtained; see scripts/install-tools.sh`);
  return path.join(BIN, name);
}
