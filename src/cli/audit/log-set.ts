// The logs a reading command works on (a deployment: one log per writer): every DIR operand, else
// `audit.dir` of --config, else var/audit. A directory whose subdirectories hold logs stands for them all
// (per-instance or per-worker logs), and for its own log too when it holds one.
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { AuditConfig } from '../../audit/config.ts';
import { CHECKPOINTS_FILE, PUBLIC_KEY_FILE } from '../../audit/format.ts';
import { workerAuditConfig } from '../../ops/worker-audit.ts';
import { UsageError } from '../command.ts';
import type { AuditContext } from './context.ts';

export interface LogRef {
  /** how output names the log: its directory name, or its path when two share a name */
  name: string;
  dir: string;
}

function isLog(dir: string): boolean {
  return existsSync(join(dir, PUBLIC_KEY_FILE)) || existsSync(join(dir, CHECKPOINTS_FILE));
}

/** The log in `dir` and the logs in its subdirectories: a parent of logs, or a log whose deployment later
 * ran `start --workers N` (or ran them before going back to one process), whose workers' logs are below it. */
function expand(dir: string): string[] {
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(dir, entry.name))
      .filter(isLog)
      .sort();
  } catch {
    // not a readable directory: scanning it names the problem
  }
  if (isLog(dir)) return [dir, ...children];
  return children.length ? children : [dir];
}

/** Every log of the set, in the order given (a parent's logs by name), each once. */
export function logSet(ctx: AuditContext): LogRef[] {
  const operands = ctx.positionals.length ? ctx.positionals : [ctx.config?.dir ?? 'var/audit'];
  const seen = new Set<string>();
  const dirs = operands.flatMap(expand).filter((dir) => !seen.has(resolve(dir)) && seen.add(resolve(dir)));
  const names = dirs.map((dir) => basename(resolve(dir)));
  return dirs.map((dir, k) => ({
    dir,
    name: names.indexOf(names[k]!) === names.lastIndexOf(names[k]!) ? names[k]! : dir,
  }));
}

/** The `audit:` block of --config as it applies to the log: its own (audit.dir), or that of one of its
 * workers (`audit.dir/worker-<n>`, written by `start --workers N`, with the worker's witnesses). */
export function configuredLog(ctx: AuditContext, log: LogRef): AuditConfig | undefined {
  if (!ctx.config) return undefined;
  const dir = resolve(log.dir);
  if (resolve(ctx.config.dir) === dir) return ctx.config;
  const worker = /^worker-([1-9]\d{0,2})$/.exec(basename(dir));
  return worker && dirname(dir) === resolve(ctx.config.dir)
    ? workerAuditConfig(ctx.config, Number(worker[1]))
    : undefined;
}

/** Whether the log is the one --config names (audit.dir) or one of its workers'. */
export function isConfiguredLog(ctx: AuditContext, log: LogRef): boolean {
  return configuredLog(ctx, log) !== undefined;
}

/** One log for a proof: the only one of the set, or the one --log names (by name or directory). */
export function chosenLog(ctx: AuditContext, wanted: string | undefined): LogRef {
  const logs = logSet(ctx);
  if (wanted === undefined) {
    if (logs.length === 1) return logs[0]!;
    throw new UsageError(`${logs.length} logs given: name one with --log (${logs.map((log) => log.name).join(', ')})`);
  }
  const found = logs.find((log) => log.name === wanted || resolve(log.dir) === resolve(wanted));
  if (!found)
    throw new UsageError(`--log ${wanted} is none of the logs given (${logs.map((log) => log.name).join(', ')})`);
  return found;
}

export const LOGS_HELP: [string, string] = [
  'DIR...',
  'audit directories, each a log or a parent of logs (one per\ninstance or worker); default: audit.dir of --config, else var/audit',
];
export const LOG_OPTION_HELP: [string, string] = [
  '--log NAME|DIR',
  'the log to use when several are given (its directory name or path)',
];
