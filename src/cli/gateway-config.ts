// The gateway configuration as `start` and `config check` see it: the same file, the same checks.
import { checkConfigFile, type FileCheck } from '../config/check.ts';
import { ConfigError, ConfigInputError, type GatewayConfig, loadConfigFile } from '../config/load.ts';
import { withPlannedFiles } from '../config/secret.ts';
import { ADAPTER_FACTORIES } from '../registry/adapters.ts';
import { demoMaterialPlanned } from '../web/demo-peers.ts';
import { resolve, sep } from 'node:path';
import { DEFAULT_DEV_DIR } from './certs.ts';
import { InputError, type Io } from './command.ts';

export const DEFAULT_CONFIG = 'config/demo.yaml';

/** --config FILE, else $VPM_CONFIG, else the demo configuration. */
export function configPath(explicit?: string): string {
  return explicit ?? process.env.VPM_CONFIG ?? DEFAULT_CONFIG;
}

/** A file that cannot be read as a configuration is the command's input error (exit 2), not a refusal. */
function asInputError(err: unknown): unknown {
  return err instanceof ConfigInputError ? new InputError(err.problems.join('\n  ')) : err;
}

/** Every problem `start` would refuse, collected without writing anything (the demo's key material counts as planned). */
export function checkGatewayConfig(path: string): Promise<FileCheck> {
  return checkConfigFile(path, { factories: ADAPTER_FACTORIES, planned: demoMaterialPlanned(path) }).catch(
    (err: unknown) => {
      throw asInputError(err);
    },
  );
}

function printProblems(io: Io, heading: string, problems: string[]): void {
  io.stderr(`${heading}\n${problems.map((problem) => `  ${problem}`).join('\n')}\n`);
}

/** A file missing under the development PKI's directory (config/demo-https.yaml's certificates) is made by
 * `certs dev`, which a first start over https may not have run: say so after the problems. */
function devPkiHint(io: Io, problems: string[]): void {
  const dev = resolve(DEFAULT_DEV_DIR) + sep;
  const missing = problems.some((p) => {
    const file = /cannot read file (.+): ENOENT$/.exec(p)?.[1];
    return file !== undefined && resolve(file).startsWith(dev);
  });
  if (missing)
    io.stderr(
      `${DEFAULT_DEV_DIR} is the development PKI: create it with "vpm-gateway certs dev" (npm run start:https does so first)\n`,
    );
}

/** Prints the problems of a checked file; true when there are none. */
export function reportProblems(path: string, result: FileCheck, io: Io, refusedHeading: string): boolean {
  if (result.invalid.length) printProblems(io, `${path}: configuration is invalid`, result.invalid);
  else if (result.refused.length) printProblems(io, `${path}: ${refusedHeading}`, result.refused);
  devPkiHint(io, [...result.invalid, ...result.refused]);
  return !result.invalid.length && !result.refused.length;
}

/** The configuration as a command that starts no gateway sees it (`keys`, `providers`): the demo's key
 * material, which `start` generates, counts as present, as for `config check`. */
export function loadCommandConfig(path: string, io: Io): GatewayConfig | undefined {
  return withPlannedFiles(demoMaterialPlanned(path), () => loadGatewayConfig(path, io));
}

/** The validated configuration, or undefined after printing why it is invalid (InputError when unreadable). */
export function loadGatewayConfig(path: string, io: Io): GatewayConfig | undefined {
  try {
    return loadConfigFile(path, { factories: ADAPTER_FACTORIES });
  } catch (err) {
    if (!(err instanceof ConfigError) || err instanceof ConfigInputError) throw asInputError(err);
    printProblems(io, `${path}: configuration is invalid`, err.problems);
    return undefined;
  }
}
