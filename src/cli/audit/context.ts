// What every `vpm-gateway audit` command shares: the `audit:` and `store:` blocks of --config, the log
// directory, the pinned checkpoint key, and the refusal of a proof. Every command reads the log
// directly; no running gateway is needed.
import { readFileSync } from 'node:fs';
import type { ParseArgsOptionsConfig } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { type AuditConfig, auditConfigSchema } from '../../audit/config.ts';
import { FormatError } from '../../audit/format.ts';
import type { Checkpoint } from '../../audit/checkpoint-format.ts';
import { type CheckpointVerifier, loadCheckpointPublicKey } from '../../audit/keys.ts';
import { ProofError } from '../../audit/merkle.ts';
import { storeSchema } from '../../config/store-schema.ts';
import {
  type CommandSpec,
  command,
  emit,
  EXIT_FAILED,
  EXIT_USAGE,
  InputError,
  type Io,
  type Runner,
  UsageError,
  type Values,
} from '../command.ts';
import { LOGS_HELP } from './log-set.ts';

export type StoreConfig = ReturnType<typeof storeSchema.parse>;

export interface AuditContext {
  io: Io;
  json: boolean;
  positionals: string[];
  /** the `audit:` block of --config */
  config?: AuditConfig;
  /** the `store:` block of --config, for the Redis witness */
  storeConfig?: StoreConfig;
  /** --public-key FILE */
  publicKeyFile?: string;
}

const PUBLIC_KEY_OPTION = { 'public-key': { type: 'string' } } as const satisfies ParseArgsOptionsConfig;

const PUBLIC_KEY_HELP: [string, string] = [
  '--public-key FILE',
  'checkpoint public key (PEM or JWK) to pin, for every log; default:\nthe key of --config, else the copy in each DIR (not pinned)',
];
const PINNED_KEY_HELP: [string, string] = [
  '--public-key FILE',
  'checkpoint public key (PEM or JWK) to pin; default: the key of\n--config',
];

type AuditCommandSpec<O extends ParseArgsOptionsConfig> = Omit<CommandSpec<O>, 'run'> & {
  run(ctx: AuditContext, values: Values<O>): Promise<number>;
};

/** An `audit` subcommand: --config loaded into the context; an error it cannot run past is exit 2, an invalid
 * configuration exit 1 as for every command (src/cli/command.ts). */
export function auditCommand<O extends ParseArgsOptionsConfig>(spec: AuditCommandSpec<O>): Runner {
  return command<O>({
    config: 'gateway configuration: the audit directory, keys and witnesses',
    ...spec,
    name: `audit ${spec.name}`,
    async run({ values, positionals, io, json }) {
      const { config: configFile, 'public-key': publicKeyFile } = values as { config?: string; 'public-key'?: string };
      try {
        const ctx: AuditContext = { io, json, positionals, ...(configFile ? loadAuditConfig(configFile) : {}) };
        if (publicKeyFile) ctx.publicKeyFile = publicKeyFile;
        return await spec.run(ctx, values);
      } catch (err) {
        if (err instanceof UsageError || err instanceof InputError) throw err;
        if (err instanceof InvalidConfig) {
          io.stderr(`${err.message}\n`);
          return EXIT_FAILED;
        }
        io.stderr(`audit ${spec.name}: ${(err as Error).message}\n`);
        return EXIT_USAGE;
      }
    },
  });
}

type ReaderCommandSpec<O extends ParseArgsOptionsConfig> = AuditCommandSpec<O> & {
  /** the positional argument, described (default: DIR...) */
  operand?: [string, string];
};

/**
 * An `audit` subcommand that reads a log with a checkpoint key: DIR (or its own operand), --public-key
 * and --config are parsed and described alike for all of them.
 */
export function readerCommand<O extends ParseArgsOptionsConfig>(spec: ReaderCommandSpec<O>): Runner {
  return auditCommand({
    ...spec,
    options: { ...PUBLIC_KEY_OPTION, ...spec.options },
    help: [spec.operand ?? LOGS_HELP, ...(spec.help ?? []), spec.operand ? PINNED_KEY_HELP : PUBLIC_KEY_HELP],
  } as AuditCommandSpec<O>);
}

function blockOf(doc: unknown, name: string): unknown {
  return typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)[name] : undefined;
}

/** A configuration that reads but whose `audit:` or `store:` block `start` would refuse. */
class InvalidConfig extends Error {
  override name = 'InvalidConfig';
}

function invalid(path: string, block: string, issues: { path: PropertyKey[]; message: string }[]): Error {
  return new InvalidConfig(
    `${path}: configuration is invalid\n${issues.map((issue) => `  ${block}.${issue.path.join('.')}: ${issue.message}`).join('\n')}`,
  );
}

/** The `audit:` and `store:` blocks of a gateway configuration file. */
export function loadAuditConfig(path: string): { config: AuditConfig; storeConfig: StoreConfig } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: cannot read configuration file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    // as the gateway's own loader says it (src/config/load.ts)
    throw new InputError(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const audit = auditConfigSchema.safeParse(blockOf(doc, 'audit') ?? {});
  if (!audit.success) throw invalid(path, 'audit', audit.error.issues);
  const store = storeSchema.safeParse(blockOf(doc, 'store') ?? { type: 'memory' });
  if (!store.success) throw invalid(path, 'store', store.error.issues);
  return { config: audit.data, storeConfig: store.data };
}

/** For the commands that write or read what only the configuration names. */
export function requireConfig(ctx: AuditContext, command: string, why: string): AuditConfig {
  if (!ctx.config) throw new UsageError(`${command} needs --config FILE (${why})`);
  return ctx.config;
}

/** The pinned checkpoint key: --public-key, else the configured signing key's public half. */
export async function pinnedKey(ctx: AuditContext): Promise<CheckpointVerifier | undefined> {
  if (ctx.publicKeyFile) return loadCheckpointPublicKey(ctx.publicKeyFile);
  if (ctx.config) return loadCheckpointPublicKey(ctx.config.signing_key);
  return undefined;
}

export function checkpointSummary(checkpoint: Checkpoint): string {
  return `checkpoint ${checkpoint.n} (size ${checkpoint.size}, root ${checkpoint.root.slice(0, 16)}…, ${checkpoint.time})`;
}

/** A file the operator named, as JSON; an unreadable one is an error naming it. */
export function readJsonFile(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A proof that does not hold, or a log or key it cannot be built from: REFUSED, exit 1. */
export function refused(ctx: AuditContext, err: unknown): number {
  if (!(err instanceof ProofError) && !(err instanceof FormatError) && (err as Error).name !== 'AuditKeyError')
    throw err;
  const message = (err as Error).message;
  emit(ctx, { ok: false, error: message }, `REFUSED: ${message}\n`);
  return EXIT_FAILED;
}
