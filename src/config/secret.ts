// A secret in configuration: a literal string, `{ env: NAME }` or `{ file: path }`. Resolved while the
// file is validated, so a missing variable or unreadable file is reported with its exact config path.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const secretSchema = z
  .union([z.string().min(1), z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })])
  .transform((value, ctx) => {
    if (typeof value === 'string') return value;
    if ('env' in value) {
      const v = process.env[value.env];
      if (!v) {
        ctx.addIssue({ code: 'custom', message: `environment variable ${value.env} is not set` });
        return z.NEVER;
      }
      return v;
    }
    try {
      return readFileSync(value.file, 'utf8').trim();
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: `cannot read secret file ${value.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      });
      return z.NEVER;
    }
  });

let planned: ((path: string) => boolean) | undefined;

/**
 * Validate with `isPlanned` files counted as present when absent: the demo's key material, which
 * `start` generates only after the configuration has passed every check (so `config check` writes nothing).
 */
export function withPlannedFiles<T>(isPlanned: ((path: string) => boolean) | undefined, fn: () => T): T {
  const previous = planned;
  planned = isPlanned;
  try {
    return fn();
  } finally {
    planned = previous;
  }
}

/** A PEM or other file that must exist and be readable; the value is the path. */
export const readableFile = z
  .string()
  .min(1)
  .superRefine((path, ctx) => {
    try {
      readFileSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && planned?.(path)) return;
      ctx.addIssue({
        code: 'custom',
        message: `cannot read file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      });
    }
  });
