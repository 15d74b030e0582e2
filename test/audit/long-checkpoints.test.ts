// A log that has run for years: checkpoints.jsonl holds a checkpoint for every checkpoint interval with
// entries (about 350 bytes each, one every 5 s: 2 GiB a year). The gateway's start, `audit verify` and
// `audit query` read it line by line and keep only the latest checkpoints, so they run here as real processes
// with a heap far too small to hold every checkpoint (holding them all ran out of it), and a checkpoint
// altered in the middle of the file, validly signed, is still found by comparing it with the entries.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { decodeCheckpointLine, encodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import { witnessPath } from '../../src/audit/config.ts';
import { loadOrCreateCheckpointKey, signCheckpoint } from '../../src/audit/keys.ts';
import { GatewayProcess, MAIN, NODE, root } from '../ops/processes.ts';
import { freePort } from '../support/free-port.ts';
import { RP_REDIRECT, RP_SECRET } from '../support/gateway.ts';
import { MOCK_PROVIDER } from '../support/provider-entries.ts';
import { logWithManyCheckpoints, type ManyCheckpoints } from './support/many-checkpoints.ts';

const ENTRIES = 2000;
const CHECKPOINTS = 60_000;
// old space of the processes here: each program needs some of its own (verify about 12 MB, query more, the
// gateway about 45 MB at its peak while loading its modules, whatever the log), and the checkpoints of this log
// (about 25 MB once parsed) do not fit beside it: a gateway that kept them all ran out of 64 MB, a verify of
// 40 MB. A young generation of 8 MB lets what a reader drops at once die young; with one of 16 MB V8 sometimes
// collected the old space without end, at 12 MB live, and verify took 90 s instead of 10.
const HEAP = { verify: 32, query: 48, gateway: 56 };
const heap = (mb: number) => [`--max-old-space-size=${mb}`, '--max-semi-space-size=8'];

let log: ManyCheckpoints;
beforeAll(async () => {
  log = await logWithManyCheckpoints(ENTRIES, CHECKPOINTS);
}, 60_000);
afterAll(() => rmSync(log.t.root, { recursive: true, force: true }));

function audit(command: 'verify' | 'query', ...args: string[]) {
  return spawnSync(NODE, [...heap(HEAP[command]), MAIN, 'audit', command, ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function gatewayConfig(): Promise<string> {
  const port = await freePort();
  const path = join(log.t.root, 'gateway.yaml');
  writeFileSync(
    path,
    stringify({
      issuer: `http://127.0.0.1:${port}`,
      port,
      keys: { dir: join(log.t.root, 'gateway-keys') },
      log_level: 'warn',
      audit: {
        dir: log.t.dir,
        signing_key: log.t.config.signing_key,
        subject_hash_key: log.t.config.subject_hash_key,
      },
      clients: [{ client_id: 'rp', client_secret: RP_SECRET, redirect_uris: [RP_REDIRECT] }],
      providers: [MOCK_PROVIDER],
    }),
  );
  return path;
}

function startGateway(config: string): GatewayProcess {
  return new GatewayProcess(['start', '--config', config], {
    cwd: log.t.root,
    command: [NODE, ...heap(HEAP.gateway), MAIN],
  });
}

test(`audit verify checks all ${CHECKPOINTS} checkpoints in a small heap`, () => {
  const run = audit('verify', log.t.dir, '--public-key', log.t.publicKey);
  expect(run.stderr).not.toMatch(/heap out of memory/i);
  expect(run.stdout).toContain(`${ENTRIES} entries, ${CHECKPOINTS} checkpoints`);
  expect(run.stdout).toContain('OK: every entry, the tree, every checkpoint signature and the timestamps verify');
  expect(run.status).toBe(0);
}, 60_000);

test('audit query answers in a small heap', () => {
  const run = audit(
    'query',
    log.t.dir,
    '--public-key',
    log.t.publicKey,
    '--event',
    'provider_chosen',
    '--limit',
    '2',
    '--json',
  );
  expect(run.stderr).not.toMatch(/heap out of memory/i);
  expect(run.status).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ count: ENTRIES, shown: 2 });
}, 60_000);

test('the gateway starts on the log in a small heap, against its witness', async () => {
  const gateway = startGateway(await gatewayConfig());
  try {
    expect(await gateway.port()).toBeGreaterThan(0);
  } finally {
    await gateway.stop();
  }
  // its clean stop signed the next checkpoint after the ones written here, and handed it to the witness
  const last = readFileSync(join(log.t.dir, 'checkpoints.jsonl'), 'utf8').trimEnd().split('\n').at(-1)!;
  const stopped = decodeCheckpointLine(last);
  expect(stopped.n).toBe(CHECKPOINTS);
  expect(stopped.size).toBeGreaterThan(ENTRIES); // with the gateway's own records of its start
  expect(readFileSync(witnessPath(log.t.config), 'utf8')).toBe(`${last}\n`);
}, 60_000);

test('a witness far behind the log is found in the file: the start goes on when it agrees, not when it differs', async () => {
  const witness = witnessPath(log.t.config);
  writeFileSync(witness, log.lines[100]!);
  const config = await gatewayConfig();
  const agreeing = startGateway(config);
  try {
    expect(await agreeing.port()).toBeGreaterThan(0);
  } finally {
    await agreeing.stop();
  }
  const signer = await loadOrCreateCheckpointKey(log.t.config.signing_key, log.t.config.signing_alg);
  const old = decodeCheckpointLine(log.lines[100]!.trimEnd());
  const rewritten = await signCheckpoint(
    { ...old, root: decodeCheckpointLine(log.lines[200]!.trimEnd()).root },
    signer,
  );
  writeFileSync(witness, encodeCheckpointLine(rewritten));
  const refused = startGateway(config);
  expect((await refused.exit).code).not.toBe(0);
  expect(refused.output).toContain('checkpoint 100 differs in root');
  writeFileSync(witness, readFileSync(join(log.t.dir, 'checkpoints.jsonl'), 'utf8').trimEnd().split('\n').at(-1)!);
}, 60_000);

test('a checkpoint in the middle signed over other entries refuses the start', async () => {
  const middle = CHECKPOINTS / 2;
  const path = join(log.t.dir, 'checkpoints.jsonl');
  const lines = readFileSync(path, 'utf8').split('\n');
  const original = decodeCheckpointLine(lines[middle]!);
  const other = decodeCheckpointLine(lines[middle + CHECKPOINTS / 4]!);
  expect(other.root).not.toBe(original.root);
  // a valid signature by the log's own key, the number and size in sequence: only the entries tell
  const signer = await loadOrCreateCheckpointKey(log.t.config.signing_key, log.t.config.signing_alg);
  const forged = encodeCheckpointLine(await signCheckpoint({ ...original, root: other.root }, signer));
  const offset = lines.slice(0, middle).reduce((sum, line) => sum + line.length + 1, 0);
  expect(forged.length).toBe(lines[middle]!.length + 1);
  const fd = openSync(path, 'r+');
  writeSync(fd, forged, offset);
  closeSync(fd);

  const gateway = startGateway(await gatewayConfig());
  expect((await gateway.exit).code).not.toBe(0);
  expect(gateway.output).toContain(`checkpoints.jsonl line ${middle + 1}`);
  expect(gateway.output).toContain('root does not match');
}, 60_000);
