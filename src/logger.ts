// Structured JSON lines for operators. Never pass personal codes, tokens or secrets in `fields`.
// Values are bounded: an error message may quote what a client or an upstream sent (150 KB of it),
// and one request must not be able to flood stderr.
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** longest string value printed whole */
export const MAX_LOG_STRING = 1024;
/** longest line; beyond it only time, level, message and the size are printed */
export const MAX_LOG_LINE = 8192;

function bounded(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.length > MAX_LOG_STRING)
    return `${value.slice(0, MAX_LOG_STRING)}…[truncated, ${value.length} chars]`;
  return value;
}

export function createLogger(
  level: Level = 'info',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  base: Record<string, unknown> = {},
): Logger {
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const time = new Date().toISOString();
    const line = JSON.stringify({ time, level: lvl, msg, ...base, ...fields }, bounded);
    write(
      line.length <= MAX_LOG_LINE
        ? line
        : JSON.stringify({ time, level: lvl, msg: bounded('', msg), truncated: `line of ${line.length} chars` }),
    );
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  };
}

/** Collects lines in memory (tests assert that no personal data reaches the log). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(
    createLogger('debug', (l) => lines.push(l)),
    { lines },
  );
}
