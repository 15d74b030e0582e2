// The conventions every `vpm-gateway` command follows, parsed by node:util parseArgs:
// - options come after the command; `--config FILE` (-c), `--json` and `--help` (-h) mean the same
//   everywhere, and each command adds only its own options;
// - `--help` prints the command's usage on stdout and exits 0;
// - an option that takes a value takes the next word, also one that starts with a dash (getopt's rule:
//   a login's reference may, `--correlation -LIg6--Iuz`) unless that word is an option of the command;
// - an unknown option, a missing value or a wrong argument is a usage error: the message names it,
//   the usage follows on stderr, exit 2;
// - input the command cannot read (a configuration file missing or not YAML, a PORT that is no port) is one
//   line naming it, exit 2 as well: there is nothing to check or run;
// - otherwise 0 when all is well, 1 when a verification failed or something was refused (a configuration
//   that reads but `start` would refuse among them).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const stdio: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** A command line the command cannot run with: printed with the usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Input the command was given but cannot read (src/config/load.ts ConfigInputError): one line, exit 2. */
export class InputError extends Error {
  override name = 'InputError';
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O & typeof COMMON_OPTIONS; allowPositionals: true; strict: true }>
>;

export type Values<O extends ParseArgsOptionsConfig> = Parsed<O>['values'];

/** What a command receives: its option values, its positional arguments and where to print. */
export interface Invocation<O extends ParseArgsOptionsConfig> {
  values: Values<O>;
  positionals: string[];
  io: Io;
  json: boolean;
}

/** Runs a command, or a group of commands, on the arguments after its name. */
export type Runner = (args: string[], io: Io) => Promise<number>;

export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  /** the words that start it, e.g. `audit verify` */
  name: string;
  /** the synopsis after `vpm-gateway <name>` */
  synopsis: string;
  summary: string;
  /** its arguments and own options, `[flag, description]` lines of the usage */
  help?: [string, string][];
  /** what --config means to it (default: the gateway configuration file) */
  config?: string;
  options: O;
  /** the most positional arguments it takes */
  maxPositionals: number;
  run(invocation: Invocation<O>): Promise<number>;
}

function commonHelp(config = 'gateway configuration file'): [string, string][] {
  return [
    ['-c, --config FILE', config],
    ['--json', 'one JSON document on stdout'],
    ['-h, --help', 'print this usage and exit'],
  ];
}

function helpLines(lines: [string, string][]): string {
  const indent = `\n${' '.repeat(30)}`;
  // a flag as wide as the column gets its text on the next line, never run into it
  const head = (flag: string) => (flag.length < 28 ? flag.padEnd(28) : `${flag}${indent}`);
  return lines.map(([flag, text]) => `  ${head(flag)}${text.replaceAll('\n', indent)}\n`).join('');
}

export function commandUsage(spec: CommandSpec<ParseArgsOptionsConfig>): string {
  return `usage: vpm-gateway ${spec.name} ${spec.synopsis}\n\n${spec.summary}\n\narguments and options:\n${helpLines([...(spec.help ?? []), ...commonHelp(spec.config)])}`;
}

function usageError(io: Io, name: string, message: string, usage: string): number {
  io.stderr(`${['vpm-gateway', name].filter(Boolean).join(' ')}: ${message}\n\n${usage}`);
  return EXIT_USAGE;
}

/** The option a word names (`--name`, `--name=value`, `-n`), if the command has it. */
function optionOf(word: string, options: ParseArgsOptionsConfig): string | undefined {
  if (word.startsWith('--')) {
    const name = word.slice(2).split('=')[0]!;
    return Object.hasOwn(options, name) ? name : undefined;
  }
  if (/^-[^-]$/.test(word)) return Object.keys(options).find((name) => options[name]!.short === word[1]);
  return undefined;
}

/** parseArgs refuses a value that starts with a dash as ambiguous; written `--name=value` it takes it. */
function attachDashedValues(args: string[], options: ParseArgsOptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const word = args[i]!;
    if (word === '--') return [...out, ...args.slice(i)];
    const name = word.includes('=') ? undefined : optionOf(word, options);
    const next = args[i + 1];
    if (
      name &&
      options[name]!.type === 'string' &&
      next?.startsWith('-') &&
      next !== '--' &&
      !optionOf(next, options)
    ) {
      out.push(`--${name}=${next}`);
      i += 1;
    } else out.push(word);
  }
  return out;
}

// Control characters other than newline and tab (ESC and the CSI that start terminal sequences, carriage
// return, C1) and the bidi overrides and isolates: a terminal acts on them instead of showing them, so a
// file name or field a disk writer chose could clear the screen and paint a verdict of its own
const TERMINAL_UNSAFE = /[^\P{Cc}\n\t]|[\u202a-\u202e\u2066-\u2069]/gu;

/** `text` with what a terminal would act on written out as `\u....` escapes. */
export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What a command prints reaches the operator's terminal only through terminalSafe(). */
const terminalSafeIo = (io: Io): Io => ({
  stdout: (text) => io.stdout(terminalSafe(text)),
  stderr: (text) => io.stderr(terminalSafe(text)),
});

export function command<O extends ParseArgsOptionsConfig>(spec: CommandSpec<O>): Runner {
  const usage = commandUsage(spec as unknown as CommandSpec<ParseArgsOptionsConfig>);
  return async (args, rawIo) => {
    const io = terminalSafeIo(rawIo);
    let parsed: Parsed<O>;
    try {
      const options = { ...COMMON_OPTIONS, ...spec.options };
      parsed = parseArgs({
        args: attachDashedValues(args, options),
        options,
        allowPositionals: true,
        strict: true,
      }) as Parsed<O>;
    } catch (err) {
      // node's advice on positionals that start with a dash does not help here
      const message = (err as Error).message
        .replace(/\. To specify a positional argument .*$/s, '')
        // a dashed value is taken unless it is an option of the command: then the value is missing
        .replace(/^(Option '[^']+') argument is ambiguous\..*$/s, '$1 argument missing')
        // a key id is base64url: one may begin with a dash, which reads as a short option
        .replace(/^(Unknown option '-[^-][^']*')$/s, '$1 (a value that begins with a dash goes after --)');
      return usageError(io, spec.name, message, usage);
    }
    const common = parsed.values as { help?: boolean; json?: boolean };
    if (common.help) {
      io.stdout(usage);
      return EXIT_OK;
    }
    try {
      if (parsed.positionals.length > spec.maxPositionals)
        throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[spec.maxPositionals])}`);
      const json = common.json === true;
      return await spec.run({ values: parsed.values, positionals: parsed.positionals, io, json });
    } catch (err) {
      if (err instanceof UsageError) return usageError(io, spec.name, err.message, usage);
      if (!(err instanceof InputError)) throw err;
      io.stderr(`vpm-gateway ${spec.name}: ${err.message}\n`);
      return EXIT_USAGE;
    }
  };
}

export interface GroupSpec {
  /** the words before the subcommand, e.g. `audit` (empty for the program itself) */
  name: string;
  /** `[subcommand synopsis, description]` lines of the usage */
  help: [string, string][];
  /** subcommand -> how to load it (commands load their dependencies only when they run) */
  commands: Record<string, () => Promise<Runner>>;
}

/** A command made of subcommands: `vpm-gateway audit verify ...`. */
export function group(spec: GroupSpec): Runner {
  const prefix = spec.name ? `${spec.name} ` : '';
  const usage = `usage: vpm-gateway ${prefix}<command> [options]\n\ncommands:\n${helpLines(spec.help)}\nEvery command takes --config FILE, --json and --help; "vpm-gateway ${prefix}<command> --help" describes it.\n`;
  return async ([subcommand, ...rest], io) => {
    if (subcommand === '--help' || subcommand === '-h' || subcommand === 'help') {
      io.stdout(usage);
      return EXIT_OK;
    }
    if (subcommand === undefined) return usageError(io, spec.name, 'a command is missing', usage);
    const load = Object.hasOwn(spec.commands, subcommand) ? spec.commands[subcommand] : undefined;
    if (!load) {
      const what = subcommand.startsWith('-') ? 'option' : 'command';
      return usageError(io, spec.name, `unknown ${what} ${JSON.stringify(subcommand)}`, usage);
    }
    return (await load())(rest, io);
  };
}

/** Prints `doc` as JSON with --json, else `text` for a person. */
export function emit(invocation: { io: Io; json: boolean }, doc: unknown, text: string): void {
  invocation.io.stdout(invocation.json ? `${JSON.stringify(doc, null, 2)}\n` : text);
}

export function integerOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(value);
}

export function timeOption(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(`--${name} is not a date or time (use ISO 8601, e.g. 2025-01-31T12:00:00Z)`);
  return new Date(ms).toISOString();
}
