// The `audit:` block of the gateway configuration, and opening the file-backed log from it.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import { z } from 'zod';
import { secretSchema } from '../config/secret.ts';
import type { Logger } from '../logger.ts';
import { AuditUnavailableError } from './events.ts';
import type { Store } from '../store/store.ts';
import { EntryMac } from './entry-mac.ts';
import {
  type AuditorKey,
  type CheckpointSigner,
  loadAuditorKey,
  loadOrCreateCheckpointKey,
  writeNewFileSync,
} from './keys.ts';
import { FileAuditLog } from './log.ts';
import { openFileAuditLog } from './open.ts';
import { FileWitness, StoreWitness, type Witness } from './witness.ts';

function inside(child: string, parent: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export const auditConfigSchema = z
  .strictObject({
    /** directory of segments and checkpoints (created on first start) */
    dir: z.string().min(1).default('var/audit'),
    /** the name of this log in a deployment of several: it names the witnesses (file
     * `audit-witness.<name>.json`, store key `audit-witness:<kid>:<name>`), so logs sharing a checkpoint
     * key and a Redis keep apart; required to differ when they share one */
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'name: 1-64 letters, digits, ".", "_" or "-"')
      .optional(),
    /** PKCS#8 PEM key that signs checkpoints; generated on first start when absent. Keep it out of `dir`
     * (the directory is handed to verifiers) and apart from the token signing keys. */
    signing_key: z.string().min(1).default('var/audit-key/checkpoint.pem'),
    /** algorithm of a generated checkpoint key; an existing key's type decides otherwise */
    signing_alg: z.enum(['EdDSA', 'ES256']).default('EdDSA'),
    /** HMAC key for personal codes (at least 32 characters). When absent a random key is generated into
     * `subject-hash.key` next to the signing key; an operator needs it to search by personal code. */
    subject_hash_key: secretSchema
      .pipe(z.string().min(32, 'subject_hash_key must be at least 32 characters'))
      .optional(),
    /** auditor's public key (PEM or JWK file): released claims are stored encrypted to it; without it they are not stored */
    auditor_public_key: z.string().min(1).optional(),
    /** a checkpoint after this many new entries ... */
    checkpoint_every: z.number().int().min(1).max(1_000_000).default(1000),
    /** ... or this long after the first entry not yet covered */
    checkpoint_interval_ms: z.number().int().min(10).max(3_600_000).default(5000),
    /** start a new segment file beyond this size */
    segment_max_bytes: z
      .number()
      .int()
      .min(4096)
      .max(2 ** 31)
      .default(64 * 1024 * 1024),
    /** a torn tail found at start-up: refuse to start (default) or move it aside, record that, and start */
    torn_tail: z.enum(['refuse', 'repair']).default('refuse'),
    /** MAC key of every entry (at least 32 characters). When absent a random key is generated into
     * `entry-mac.key` next to the signing key; `audit verify --config` needs it. */
    entry_mac_key: secretSchema.pipe(z.string().min(32, 'entry_mac_key must be at least 32 characters')).optional(),
    /** where the latest signed checkpoint is also kept, out of reach of whoever can write `dir`:
     * `path` (default `audit-witness.json` next to the signing key) and, when the gateway runs on Redis,
     * the store (`store: false` to leave it out) */
    witness: z.strictObject({ path: z.string().min(1).optional(), store: z.boolean().default(true) }).prefault({}),
    /** a time in the log further ahead of this host's clock refuses the start */
    max_clock_skew_ms: z.number().int().min(0).max(3_600_000).default(60_000),
    /** below this much free space on the audit volume events are refused and the gateway is not ready */
    min_free_bytes: z
      .number()
      .int()
      .min(0)
      .default(256 * 1024 * 1024),
    /** whole segments whose last entry is older than this many days are retired (./retention.ts); absent:
     * every entry is kept */
    retention_days: z.number().int('whole days').min(1, 'at least 1 (a day)').max(36_500).optional(),
    /** retired segments are moved here (same names) instead of being deleted; outside `dir` */
    archive_dir: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (inside(c.signing_key, c.dir))
      ctx.addIssue({
        code: 'custom',
        path: ['signing_key'],
        message: 'the checkpoint signing key must not be inside the audit directory',
      });
    if (c.witness.path && inside(c.witness.path, c.dir))
      ctx.addIssue({
        code: 'custom',
        path: ['witness', 'path'],
        message:
          'the witness must not be inside the audit directory (whoever can rewrite the log could rewrite it too)',
      });
    if (c.archive_dir && (inside(c.archive_dir, c.dir) || inside(c.dir, c.archive_dir)))
      ctx.addIssue({
        code: 'custom',
        path: ['archive_dir'],
        message: 'the archive of retired segments must be outside the audit directory (and not hold it)',
      });
    if (c.archive_dir && c.retention_days === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['archive_dir'],
        message: 'an archive of retired segments needs audit.retention_days (nothing is retired without it)',
      });
  });

export type AuditConfig = z.infer<typeof auditConfigSchema>;

/** The configured subject hash key, or the generated one kept next to the signing key. */
export function subjectHashKey(config: AuditConfig, logger?: Logger): string {
  return secretNextToKey(
    config,
    config.subject_hash_key,
    'subject-hash.key',
    'generated an audit subject hash key; back it up, it is needed to search the log by personal code',
    logger,
  );
}

/** The configured entry MAC key, or the generated one kept next to the signing key. */
export function entryMacKey(config: AuditConfig, logger?: Logger): string {
  return secretNextToKey(
    config,
    config.entry_mac_key,
    'entry-mac.key',
    'generated an audit entry MAC key; keep it with the checkpoint key, "audit verify --config" needs it',
    logger,
  );
}

/** The file witness: configured, or next to the signing key (outside the audit directory). */
export function witnessPath(config: AuditConfig): string {
  const file = config.name ? `audit-witness.${config.name}.json` : 'audit-witness.json';
  return config.witness.path ?? resolve(dirname(config.signing_key), file);
}

/** Every witness of the log: the file, and the store when it is shared and durable (Redis). */
export function witnessesFor(config: AuditConfig, kid: string, store?: Store): Witness[] {
  const witnesses: Witness[] = [new FileWitness(witnessPath(config))];
  if (store && config.witness.store)
    witnesses.push(new StoreWitness(store, config.name ? `${kid}:${config.name}` : kid));
  return witnesses;
}

/** The entry MAC key as it is, for the commands that only read: never generated (a new key would call
 * every uncheckpointed entry forged, and change the key directory the gateway uses). */
export function existingEntryMacKey(config: AuditConfig): string {
  if (config.entry_mac_key) return config.entry_mac_key;
  const path = resolve(dirname(config.signing_key), 'entry-mac.key');
  const key = readSecretFile(path);
  if (key === undefined)
    throw new AuditUnavailableError(
      `the entry MAC key ${path} is missing: entries after the latest checkpoint cannot be authenticated without it (restore it with the checkpoint key, or verify with --public-key up to the latest checkpoint)`,
    );
  return key;
}

/** A secret file's content, or undefined when there is none. */
function readSecretFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new AuditUnavailableError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    return undefined;
  }
}

function secretNextToKey(
  config: AuditConfig,
  configured: string | undefined,
  name: string,
  generated: string,
  logger?: Logger,
): string {
  if (configured) return configured;
  const path = resolve(dirname(config.signing_key), name);
  const existing = readSecretFile(path);
  if (existing !== undefined) return existing;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('base64url');
  writeNewFileSync(path, `${key}\n`, 0o600);
  logger?.warn(generated, { path });
  return key;
}

export async function loadCheckpointSigner(config: AuditConfig, logger?: Logger): Promise<CheckpointSigner> {
  return loadOrCreateCheckpointKey(config.signing_key, config.signing_alg, (path) =>
    logger?.warn('generated an audit checkpoint signing key', { path }),
  );
}

/** Open the file-backed audit log described by the config. Rejects with AuditUnavailableError (fail closed). */
export async function openAuditLog(
  config: AuditConfig,
  logger: Logger,
  overrides: { tornTail?: 'refuse' | 'repair'; store?: Store | undefined } = {},
): Promise<FileAuditLog> {
  let signer: CheckpointSigner;
  let subjectKey: string;
  let mac: EntryMac;
  let auditor: AuditorKey | undefined;
  try {
    signer = await loadCheckpointSigner(config, logger);
    subjectKey = subjectHashKey(config, logger);
    mac = new EntryMac(entryMacKey(config, logger));
    auditor = config.auditor_public_key ? await loadAuditorKey(config.auditor_public_key) : undefined;
  } catch (err) {
    if (err instanceof AuditUnavailableError) throw err;
    throw new AuditUnavailableError(`audit log keys: ${(err as Error).message}`);
  }
  return openFileAuditLog({
    dir: config.dir,
    signer,
    mac,
    subjectKey,
    auditor,
    checkpointEvery: config.checkpoint_every,
    checkpointIntervalMs: config.checkpoint_interval_ms,
    segmentMaxBytes: config.segment_max_bytes,
    tornTail: overrides.tornTail ?? config.torn_tail,
    witnesses: witnessesFor(config, signer.kid, overrides.store),
    minFreeBytes: config.min_free_bytes,
    maxClockSkewMs: config.max_clock_skew_ms,
    retentionDays: config.retention_days,
    archiveDir: config.archive_dir,
    logger: logger.child({ component: 'audit' }),
  });
}

export { FileAuditLog };
