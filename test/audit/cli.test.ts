// Operator commands: query filters, inclusion proofs and consistency, with bad proofs refused.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { decodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import { loadOrCreateCheckpointKey, signCheckpoint } from '../../src/audit/keys.ts';
import type { ConsistencyProofDoc, InclusionProofDoc } from '../../src/cli/audit/proof-document.ts';
import { cli, loginEvents, testLog, type TestLog } from './helpers.ts';

let t: TestLog;
let sizes: number[];

beforeAll(async () => {
  t = testLog({ checkpoint_every: 6 });
  const log = await t.open();
  for (let n = 0; n < 4; n++)
    for (const e of loginEvents(n, undefined, n % 2 ? 'rp-b' : 'rp-a', n < 2 ? 'mock-eid' : 'mock-bank'))
      await log.record(e);
  await log.close();
  sizes = readFileSync(join(t.dir, CHECKPOINTS_FILE), 'utf8')
    .trim()
    .split('\n')
    .map((l) => decodeCheckpointLine(l).size);
});

const file = (name: string, doc: unknown) => {
  const path = join(t.root, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
};

describe('query', () => {
  test('filters by client, provider, event (name or code) and time; readable and --json', async () => {
    const byClient = await cli('query', t.dir, '--client', 'rp-b', '--json');
    expect(byClient.json.count).toBe(14);
    expect(new Set(byClient.json.entries.map((e: { client: string }) => e.client))).toEqual(new Set(['rp-b']));
    expect(
      (await cli('query', t.dir, '--provider', 'mock-bank', '--event', 'tokens_issued', '--json')).json.count,
    ).toBe(2);
    expect((await cli('query', t.dir, '--event', 'A150', '--json')).json.count).toBe(4);
    const all = await cli('query', t.dir, '--json');
    const middle = all.json.entries[10].t;
    const from = await cli('query', t.dir, '--from', middle, '--json');
    expect(from.json.entries.every((e: { t: string }) => e.t >= middle)).toBe(true);
    expect((await cli('query', t.dir, '--to', '2000-01-01', '--json')).json.count).toBe(0);
    const human = await cli('query', t.dir, '--event', 'identity_released', '--limit', '1');
    expect(human.stdout).toMatch(
      /#5 \S+Z {2}A150 {2}identity_released .* corr=corr-0 {2}client=rp-a {2}provider=mock-eid {2}subject=hmac-sha256:/,
    );
    expect(human.stdout).toContain('4 matching entries (1 shown)');
  });

  test('--correlation takes the whole id or the short reference of an error page (a prefix of 8 or more)', async () => {
    const u = testLog();
    const log = await u.open();
    const ids = ['Zq3xT9bKLmN0pQrS1uVwXy', 'Zq3xT9bKAAAAAAAAAAAAAA'];
    for (const id of ids) for (const e of loginEvents(0)) await log.record({ ...e, correlationId: id });
    await log.close();
    const count = async (id: string) => (await cli('query', u.dir, '--correlation', id, '--json')).json.count;
    expect(await count(ids[0]!)).toBe(7);
    expect(await count(ids[0]!.slice(0, 10))).toBe(7);
    // eight characters shared by both logins find both; fewer are too short to be a reference: a usage
    // error saying the minimum, not an empty result
    expect(await count('Zq3xT9bK')).toBe(14);
    const short = await cli('query', u.dir, '--correlation', 'Zq3xT9b');
    expect(short).toMatchObject({ code: 2, stdout: '' });
    expect(short.stderr).toMatch(
      /^vpm-gateway audit query: --correlation "Zq3xT9b" is no login's whole id, and a reference needs at least 8 of its characters \(an error page shows 10\)\n/,
    );
  });

  test('a short --correlation that is a whole id in the log still finds its login', async () => {
    const u = testLog();
    const log = await u.open();
    for (const e of loginEvents(0)) await log.record({ ...e, correlationId: 'c-7' });
    await log.close();
    expect(await cli('query', u.dir, '--correlation', 'c-7', '--json')).toMatchObject({ code: 0, json: { count: 7 } });
  });

  test('bad options are usage errors (exit 2)', async () => {
    expect((await cli('query', t.dir, '--event', 'nonsense')).code).toBe(2);
    expect((await cli('query', t.dir, '--from', 'yesterday-ish')).code).toBe(2);
    expect((await cli('query', t.dir, '--personal-code', '010180-15097')).stderr).toMatch(/hash key/);
    expect((await cli('query', t.dir, '--bogus')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('verify', join(t.root, 'missing'))).stderr).toMatch(/cannot read audit directory/);
  });
});

describe('inclusion proofs', () => {
  async function proof(index: number, ...extra: string[]) {
    const r = await cli('prove', t.dir, '--index', String(index), '--public-key', t.publicKey, '--json', ...extra);
    expect(r.code).toBe(0);
    return r.json;
  }

  test('every entry proves against the latest checkpoint, and against an earlier one', async () => {
    for (let i = 0; i < 28; i++) {
      const doc = await proof(i);
      const r = await cli('verify-proof', file('p.json', doc), '--public-key', t.publicKey);
      expect(r.stdout).toContain(`OK: entry ${i} is included in the log at checkpoint`);
      expect(r.code).toBe(0);
    }
    const early = await proof(2, '--size', String(sizes[0]));
    expect(early.checkpoint.size).toBe(sizes[0]);
    expect((await cli('verify-proof', file('p.json', early), '--public-key', t.publicKey)).code).toBe(0);
  });

  test('prove says so when an entry is not covered by the chosen checkpoint or does not exist', async () => {
    const r = await cli('prove', t.dir, '--index', String(sizes[0]! + 1), '--size', String(sizes[0]));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/not yet covered/);
    expect((await cli('prove', t.dir, '--index', '999')).stdout).toMatch(/has no entry 999/);
  });

  test.each<[string, (d: InclusionProofDoc) => unknown, RegExp]>([
    ['too short', (d) => ({ ...d, path: d.path.slice(0, -1) }), /too short/],
    ['too long', (d) => ({ ...d, path: [...d.path, d.path[0]] }), /too long|does not lead/],
    ['wrong index', (d) => ({ ...d, index: d.index + 1 }), /carries index/],
    [
      'wrong index with a matching entry edit',
      (d) => ({ ...d, index: d.index + 1, entry: d.entry.replace(`"i":${d.index},`, `"i":${d.index + 1},`) }),
      /does not lead/,
    ],
    [
      'edited entry',
      (d) => ({ ...d, entry: d.entry.replace('"provider_response"', '"provider_request"') }),
      /does not lead/,
    ],
    [
      'edited path element',
      (d) => ({
        ...d,
        path: [d.path[0]!.replace(/^./, (c: string) => (c === 'a' ? 'b' : 'a')), ...d.path.slice(1)],
      }),
      /does not lead/,
    ],
    [
      'checkpoint size changed',
      (d) => ({ ...d, checkpoint: { ...d.checkpoint, size: d.checkpoint.size - 1 } }),
      /signature/,
    ],
    ['not a proof', () => ({ format: 'something else' }), /not an audit proof/],
    ['path not hashes', (d) => ({ ...d, path: ['zz'] }), /hex SHA-256/],
  ])('refused: %s', async (_name, mutate, message) => {
    const doc = await proof(10);
    const r = await cli('verify-proof', file('bad.json', mutate(doc)), '--public-key', t.publicKey, '--json');
    expect(r.code).toBe(1);
    expect(r.json.ok).toBe(false);
    expect(r.json.error).toMatch(message);
  });

  test('a proof whose checkpoint was signed by another key is refused', async () => {
    const doc = await proof(3);
    const other = await loadOrCreateCheckpointKey(join(t.root, 'other.pem'), 'EdDSA');
    const forged = { ...doc, checkpoint: await signCheckpoint(doc.checkpoint, other) };
    const r = await cli('verify-proof', file('forged.json', forged), '--public-key', t.publicKey);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/REFUSED: checkpoint: (signed by key|signature does not verify)/);
    expect((await cli('verify-proof', file('forged.json', forged))).code).toBe(2); // no key given
  });
});

describe('consistency', () => {
  test('every earlier checkpoint is consistent with the latest, and the proof verifies on its own', async () => {
    for (const first of sizes) {
      const r = await cli('consistency', t.dir, '--first', String(first), '--public-key', t.publicKey, '--json');
      expect(r.code).toBe(0);
      const check = await cli('verify-proof', file('c.json', r.json), '--public-key', t.publicKey);
      expect(check.stdout).toMatch(/^OK: checkpoint \d+ \(size 28, .*\) extends checkpoint \d+ \(size \d+/);
    }
    const human = await cli('consistency', t.dir, '--first', String(sizes[0]), '--second', String(sizes[2]));
    expect(human.stdout).toContain(`OK: checkpoint 2 (size ${sizes[2]}`);
  });

  test('first > second is refused', async () => {
    const r = await cli('consistency', t.dir, '--first', String(sizes.at(-1)), '--second', String(sizes[0]));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/larger than the second/);
    const doc = (await cli('consistency', t.dir, '--first', String(sizes[0]), '--json')).json;
    const swapped = await cli(
      'verify-proof',
      file('s.json', { ...doc, first: doc.second, second: doc.first }),
      '--public-key',
      t.publicKey,
    );
    expect(swapped.code).toBe(1);
  });

  test.each<[string, (d: ConsistencyProofDoc) => unknown, RegExp]>([
    ['too short', (d) => ({ ...d, path: d.path.slice(0, -1) }), /too short|does not lead/],
    ['too long', (d) => ({ ...d, path: [...d.path, d.path[0]] }), /too long|does not lead/],
    ['empty', (d) => ({ ...d, path: [] }), /empty/],
  ])('a consistency proof that is %s is refused', async (_name, mutate, message) => {
    const doc = (await cli('consistency', t.dir, '--first', String(sizes[1]), '--json')).json;
    const r = await cli('verify-proof', file('bad-c.json', mutate(doc)), '--public-key', t.publicKey, '--json');
    expect(r.code).toBe(1);
    expect(r.json.error).toMatch(message);
  });

  test('a checkpoint of a forked history (validly signed, other root) is not consistent with the log', async () => {
    const signer = await loadOrCreateCheckpointKey(t.config.signing_key, 'EdDSA');
    const genuine = decodeCheckpointLine(readFileSync(join(t.dir, CHECKPOINTS_FILE), 'utf8').split('\n')[1]!);
    const fork = await signCheckpoint({ ...genuine, root: 'ab'.repeat(32) }, signer);
    const r = await cli(
      'consistency',
      t.dir,
      '--first',
      file('fork.json', fork),
      '--public-key',
      t.publicKey,
      '--json',
    );
    expect(r.code).toBe(1);
    expect(r.json.error).toMatch(/first root/);
  });
});
