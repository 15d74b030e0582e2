// Structured logs for operators, written by pino: one JSON object per line on stderr,
// `{"level":"info","time":"2025-01-31T12:00:00.123Z","msg":"gateway started",...fields}`. When stderr is a
// terminal the same lines, after the same redaction and bounds, are shown by pino-pretty (colours, one
// readable line each); a pipe, a file or a container's log driver gets the JSON.
//
// Never pass personal codes, tokens or secrets in `fields`; a value shaped like a personal code is
// replaced by `[redacted]` all the same. Values are bounded: an error message may quote what a client
// or an upstream sent (150 KB of it), and one request must not be able to flood stderr.
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { redactCodes } from './audit/redact.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** longest string value printed whole */
export const MAX_LOG_STRING = 1024;
/** longest line; beyond it only level, time, message and the line's size are printed */
export const MAX_LOG_LINE = 8192;
const MAX_DEPTH = 8;

function boundedString(s: string): string {
  const clean = redactCodes(s);
  if (clean.length <= MAX_LOG_STRING) return clean;
  return `${clean.slice(0, MAX_LOG_STRING)}…[truncated, ${clean.length} chars]`;
}

/** A copy of value with every string redacted and cut at MAX_LOG_STRING, as JSON would print it. */
function bounded(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return boundedString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return boundedString(value.message);
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return bounded(toJSON.call(value), depth + 1);
  if (Array.isArray(value)) return value.map((item) => bounded(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, bounded(item, depth + 1)]));
}

/** A pino destination that hands on whole lines (without the newline), none longer than MAX_LOG_LINE. */
function boundedLines(write: (line: string) => void): DestinationStream {
  return {
    write(chunk: string) {
      const line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
      if (line.length <= MAX_LOG_LINE) return write(line);
      const { level, time, msg } = JSON.parse(line) as LogFields;
      write(JSON.stringify({ level, time, msg, truncated: `line of ${line.length} chars` }));
    },
  };
}

function wrap(logger: PinoLogger): Logger {
  const at =
    (level: Level) =>
    (msg: string, fields?: LogFields): void => {
      if (fields) logger[level](bounded(fields) as LogFields, boundedString(msg));
      else logger[level](boundedString(msg));
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(logger.child(bounded(fields) as LogFields)),
  };
}

/** Where lines go by default: stderr, made readable by pino-pretty when it is a terminal. */
export function stderrLines(
  tty = process.stderr.isTTY === true,
  out: (text: string) => void = (text) => process.stderr.write(text),
): (line: string) => void {
  if (!tty) return (line) => out(`${line}\n`);
  const pretty = prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', singleLine: true });
  return (line) => out(pretty(line));
}

/** Lines at `level` and above, to `write` (stderr by default). */
export function createLogger(level: Level = 'info', write: (line: string) => void = stderrLines()): Logger {
  const logger = pino(
    {
      level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    boundedLines(write),
  );
  return wrap(logger);
}

/** Collects lines in memory (tests assert that no personal data reaches the log). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(
    createLogger('debug', (line) => lines.push(line)),
    { lines },
  );
}
