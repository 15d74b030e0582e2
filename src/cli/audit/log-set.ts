// The logs a reading command works on (a deployment: one log per writer): every DIR operand, else
// `audit.dir` of --config, else var/audit. A directory that holds no log files itself but whose
// subdirectories do is a parent of logs and stands for all of them (per-instance or per-worker logs).
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CHECKPOINTS_FILE, PUBLIC_KEY_FILE } from '../../audit/format.ts';
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

function expand(dir: string): string[] {
  if (isLog(dir)) return [dir];
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

/** Whether the log is the one --config names (audit.dir). */
export function isConfiguredLog(ctx: AuditContext, log: LogRef): boolean {
  return ctx.config !== undefined && resolve(ctx.config.dir) === resolve(log.dir);
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
