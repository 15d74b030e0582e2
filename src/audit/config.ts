// The `audit:` block of the gateway configuration, and opening the file-backed log from it.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import { z } from 'zod';
import { secretSchema } from '../config/secret.ts';
import type { Logger } from '../logger.ts';
import { AuditUnavailableError } from './events.ts';
import { loadAuditorKey, loadOrCreateCheckpointKey, writeNewFileSync, type CheckpointSigner } from './keys.ts';
import { FileAuditLog } from './log.ts';

function inside(child: string, parent: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export const auditConfigSchema = z
  .strictObject({
    /** directory of segments and checkpoints (created on first start) */
    dir: z.string().min(1).default('var/audit'),
    /** PKCS#8 PEM key that signs checkpoints; generated on first start when absent. Keep it out of `dir`
     * (the directory is handed to verifiers) and apart from the token signing keys. */
    signing_key: z.string().min(1).default('var/audit-key/checkpoint.pem'),
    /** algorithm of a generated checkpoint key; an existing key's type decides otherwise */
    signing_alg: z.enum(['EdDSA', 'ES256']).default('EdDSA'),
    /** HMAC key for personal codes (at least 32 characters). When absent a random key is generated into
     * `subject-hash.key` next to the signing key; an operator needs it to search by personal code. */
    subject_hash_key: secretSchema.pipe(z.string().min(32, 'subject_hash_key must be at least 32 characters')).optional(),
    /** auditor's public key (PEM or JWK file): released claims are stored encrypted to it; without it they are not stored */
    auditor_public_key: z.string().min(1).optional(),
    /** a checkpoint after this many new entries ... */
    checkpoint_every: z.number().int().min(1).max(1_000_000).default(1000),
    /** ... or this long after the first entry not yet covered */
    checkpoint_interval_ms: z.number().int().min(10).max(3_600_000).default(5000),
    /** start a new segment file beyond this size */
    segment_max_bytes: z.number().int().min(4096).max(2 ** 31).default(64 * 1024 * 1024),
    /** a torn tail found at start-up: refuse to start (default) or move it aside, record that, and start */
    torn_tail: z.enum(['refuse', 'repair']).default('refuse'),
  })
  .superRefine((c, ctx) => {
    if (inside(c.signing_key, c.dir)) ctx.addIssue({ code: 'custom', path: ['signing_key'], message: 'the checkpoint signing key must not be inside the audit directory' });
  });

export type AuditConfig = z.infer<typeof auditConfigSchema>;

/** The configured subject hash key, or the generated one kept next to the signing key. */
export function subjectHashKey(config: AuditConfig, logger?: Logger): string {
  if (config.subject_hash_key) return config.subject_hash_key;
  const path = resolve(dirname(config.signing_key), 'subject-hash.key');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new AuditUnavailableError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('base64url');
  writeNewFileSync(path, key + '\n', 0o600);
  logger?.warn('generated an audit subject hash key; back it up, it is needed to search the log by personal code', { path });
  return key;
}

export async function loadCheckpointSigner(config: AuditConfig, logger?: Logger): Promise<CheckpointSigner> {
  return loadOrCreateCheckpointKey(config.signing_key, config.signing_alg, (path) =>
    logger?.warn('generated an audit checkpoint signing key', { path }),
  );
}

/** Open the file-backed audit log described by the config. Rejects with AuditUnavailableError (fail closed). */
export async function openAuditLog(config: AuditConfig, logger: Logger, overrides: { tornTail?: 'refuse' | 'repair' } = {}): Promise<FileAuditLog> {
  let signer: CheckpointSigner;
  let subjectKey: string;
  let auditor;
  try {
    signer = await loadCheckpointSigner(config, logger);
    subjectKey = subjectHashKey(config, logger);
    auditor = config.auditor_public_key ? await loadAuditorKey(config.auditor_public_key) : undefined;
  } catch (err) {
    if (err instanceof AuditUnavailableError) throw err;
    throw new AuditUnavailableError(`audit log keys: ${(err as Error).message}`);
  }
  return FileAuditLog.open({
    dir: config.dir,
    signer,
    subjectKey,
    auditor,
    checkpointEvery: config.checkpoint_every,
    checkpointIntervalMs: config.checkpoint_interval_ms,
    segmentMaxBytes: config.segment_max_bytes,
    tornTail: overrides.tornTail ?? config.torn_tail,
    logger: logger.child({ component: 'audit' }),
  });
}

export { FileAuditLog };
