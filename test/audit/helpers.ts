// Shared set-up for the audit tests: a real file log in a temporary directory with its own keys.
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { auditConfigSchema, openAuditLog, type AuditConfig } from '../../src/audit/config.ts';
import type { AuditEvent } from '../../src/audit/events.ts';
import { decodeEntryLine, type StoredEntry } from '../../src/audit/format.ts';
import type { FileAuditLog } from '../../src/audit/log.ts';
import { runAudit } from '../../src/cli/audit.ts';
import { memoryLogger } from '../../src/logger.ts';
import type { Store } from '../../src/store/store.ts';
import { MOCK_PROVIDER } from '../support/gateway.ts';

export const CODE = '010180-15097';
export const SUBJECT = `PNOLV-${CODE}`;
export const OTHER_SUBJECT = 'PNOLV-320000-00001';
export const HASH_KEY = 'audit-subject-hash-key-for-tests-0123456789';

export interface TestLog {
  root: string;
  config: AuditConfig;
  dir: string;
  publicKey: string;
  logger: ReturnType<typeof memoryLogger>;
  open(overrides?: { tornTail?: 'refuse' | 'repair'; store?: Store }): Promise<FileAuditLog>;
}

export function testLog(settings: Record<string, unknown> = {}): TestLog {
  const root = mkdtempSync(join(tmpdir(), 'vpm-audit-'));
  const config = auditConfigSchema.parse({
    dir: join(root, 'log'),
    signing_key: join(root, 'keys', 'checkpoint.pem'),
    subject_hash_key: HASH_KEY,
    ...settings,
  });
  const logger = memoryLogger();
  return {
    root,
    config,
    dir: config.dir,
    publicKey: config.signing_key,
    logger,
    open: (o) => openAuditLog(config, logger, o),
  };
}

/** One login's events, as the gateway records them. */
export function loginEvents(n: number, subject = SUBJECT, client = 'rp', provider = 'mock-eid'): AuditEvent[] {
  const base = { correlationId: `corr-${n}`, clientId: client, providerId: provider };
  return [
    {
      ...base,
      type: 'authorization_request',
      detail: { redirect_uri: 'https://rp.example.test/cb', scope: 'openid profile', acr: 'high' },
    },
    { ...base, type: 'provider_chosen' },
    { ...base, type: 'provider_request', detail: { digest: 'sha256:abc' } },
    { ...base, type: 'provider_response', detail: { digest: 'sha256:def' } },
    { ...base, type: 'verification', person: { subject }, detail: { outcome: 'verified', loa: 'high' } },
    {
      ...base,
      type: 'identity_released',
      person: { subject, claims: { sub: subject, given_name: 'Jānis', family_name: 'Bērziņš', personal_code: CODE } },
      detail: { claims: ['family_name', 'given_name', 'personal_code', 'sub'] },
    },
    { ...base, type: 'tokens_issued', detail: { grant_type: 'authorization_code' } },
  ];
}

/** Run a CLI command; returns exit code, output and parsed JSON when --json was given. */
// biome-ignore lint/suspicious/noExplicitAny: the parsed --json output, which each test reads as it expects
export async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
  let stdout = '';
  let stderr = '';
  const code = await runAudit(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  let json: unknown;
  if (args.includes('--json')) {
    try {
      json = JSON.parse(stdout);
    } catch {
      // a test reading .json of this answer would fail without saying why: name what the command said
      throw new Error(
        `audit ${args.join(' ')} exited ${code} without JSON: ${stderr.slice(0, 2000) || stdout.slice(0, 2000)}`,
      );
    }
  }
  return { code, stdout, stderr, json };
}

export function copyDir(dir: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'vpm-audit-copy-'));
  cpSync(dir, copy, { recursive: true });
  return copy;
}

/** Every byte of every file under dir (for "never in plain text" checks). */
export function allBytes(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push(readFileSync(join(entry.parentPath, entry.name)));
  }
  return Buffer.concat(parts);
}

/** The entries of the log in `dir`, segment by segment, as stored. */
export function entries(dir: string): StoredEntry[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('segment-'))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => decodeEntryLine(Buffer.from(l)).entry);
}

/** The gateway's own keys for configFile(), shared by the logs of a test file. */
let keysDir: string | undefined;

/** A gateway configuration file (YAML) of this log for `audit verify --config` and createGateway. */
export function configFile(t: TestLog, store?: { url: string; prefix: string }): string {
  keysDir ??= mkdtempSync(join(tmpdir(), 'vpm-witness-keys-'));
  const raw = {
    issuer: 'http://127.0.0.1:1',
    keys: { dir: keysDir },
    clients: [
      {
        client_id: 'rp',
        client_secret: 'rp-secret-0123456789-0123456789-abcdef',
        redirect_uris: ['https://rp.example.test/cb'],
      },
    ],
    providers: [MOCK_PROVIDER],
    audit: {
      dir: t.config.dir,
      signing_key: t.config.signing_key,
      subject_hash_key: t.config.subject_hash_key,
      checkpoint_every: t.config.checkpoint_every,
    },
    ...(store ? { store: { type: 'redis', url: store.url, prefix: store.prefix } } : {}),
  };
  const path = join(t.root, 'gateway.yaml');
  writeFileSync(path, stringify(raw));
  return path;
}

/** A closed log of one login, and the path of its segment. */
export async function closedLog(): Promise<{ t: TestLog; segment: string }> {
  const t = testLog();
  const log = await t.open();
  for (const e of loginEvents(1)) await log.record(e);
  await log.close();
  const name = readdirSync(t.dir).find((n) => n.startsWith('segment-'))!;
  return { t, segment: join(t.dir, name) };
}

/** 'opened' when the log opens (closed again at once), else the refusal's message. */
export const refusal = (t: TestLog): Promise<string> =>
  t.open().then(
    async (log) => {
      await log.close();
      return 'opened';
    },
    (err: Error) => err.message,
  );
