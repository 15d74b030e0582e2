// Who can write the audit directory but holds no key cannot retire segments: old segments deleted without the
// marker are named (as before retention existed), a marker edited is refused by its signature, and a marker
// validly signed whose first entry is at no signed frontier checkpoint (or beyond the log) is named; the start
// is refused and `audit verify` fails in each case.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RETIRED_FILE } from '../../src/audit/retired-marker.ts';
import { cli, refusal } from './helpers.ts';
import { configured, firstOf, lastLeaf, markerOf, oldLog, openAndRetire, writeMarker } from './support/old-log.ts';
import { segmentsOf } from './support/segmented-log.ts';

async function verifyFails(dir: string, publicKey: string, message: RegExp): Promise<void> {
  const verify = await cli('verify', dir, '--public-key', publicKey, '--json');
  expect(verify.code).toBe(1);
  expect(verify.json.problems.map((p: { message: string }) => p.message)).toContainEqual(
    expect.stringMatching(message),
  );
}

test('old segments deleted without a marker: the start is refused and verify fails, naming the segment', async () => {
  const t = await oldLog();
  for (const name of t.old) unlinkSync(join(t.dir, name));
  const first = segmentsOf(t.dir)[0]!;
  expect(await refusal(configured(t))).toMatch(
    new RegExp(`${first} .*segment starts at entry ${firstOf(first)} but the log begins at entry 0`),
  );
  await verifyFails(t.dir, t.publicKey, new RegExp(`segment starts at entry ${firstOf(first)}`));
});

test('a marker edited to retire more (re-encoded canonically, segments deleted to match): refused by its signature', async () => {
  const t = await oldLog();
  await (await openAndRetire(configured(t))).close();
  const marker = markerOf(t);
  const [first, second] = segmentsOf(t.dir);
  unlinkSync(join(t.dir, first!));
  const edited = { ...marker, before: firstOf(second!), leaf: 'ab'.repeat(32) };
  writeFileSync(join(t.dir, RETIRED_FILE), `${JSON.stringify(edited)}\n`);
  expect(await refusal(configured(t))).toMatch(
    /retired\.json line 1.*retirement marker refused: signature does not verify/,
  );
  await verifyFails(t.dir, t.publicKey, /^retirement marker refused: signature does not verify/);
});

test('a marker with a checkpoint signature in place of its own (another JWS typ): refused', async () => {
  const t = await oldLog();
  await (await openAndRetire(configured(t))).close();
  const line = readFileSync(join(t.dir, 'checkpoints.jsonl'), 'utf8').split('\n')[0]!;
  const marker = { ...markerOf(t), sig: JSON.parse(line).sig };
  writeFileSync(join(t.dir, RETIRED_FILE), `${JSON.stringify(marker)}\n`);
  await verifyFails(t.dir, t.publicKey, /^retirement marker refused: /);
});

describe('a marker signed with the log key', () => {
  test('whose first entry is inside a segment, at no frontier checkpoint: named', async () => {
    const t = await oldLog();
    const [, second] = segmentsOf(t.dir);
    const S = firstOf(second!) + 2;
    await writeMarker(t, S, lastLeaf(t, segmentsOf(t.dir)[0]!));
    const message = new RegExp(
      `retirement marker says the log begins at entry ${S}, but no signed checkpoint of ${S} entries carries the tree's frontier`,
    );
    expect(await refusal(configured(t))).toMatch(message);
    await verifyFails(t.dir, t.publicKey, message);
    expect(segmentsOf(t.dir).length).toBeGreaterThan(t.old.length); // nothing retired by the refused start
  });

  test('beyond every checkpoint of the log: named', async () => {
    const t = await oldLog();
    await writeMarker(t, 1_000_000, 'cd'.repeat(32));
    const message = /retirement marker says the log begins at entry 1000000, beyond the log's latest checkpoint/;
    expect(await refusal(configured(t))).toMatch(message);
    await verifyFails(t.dir, t.publicKey, message);
  });
});
