// A zeroed last line of checkpoints.jsonl is a torn tail; it must not also spare the checkpoint before it, then
// the latest, the signature check a writer start and `audit repair` make of the latest before they move anything.
// Whoever can write the directory (not the keys) appends a checkpoint of their own over an entry they altered
// (so its MAC goes unchecked) and a line of NULs: that is damage, named as such, and no repair may touch the log.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCheckpointLine, encodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { CompactTree, leafHash } from '../../src/audit/merkle.ts';
import { crashedLog, tornFiles, zeroedPage } from './crashed-log.ts';
import { cli, refusal } from './helpers.ts';

const BODY_START = '{"leaf":"'.length + 64 + '","entry":'.length;

/** `line` (with its newline) with `from` replaced by `to` in its entry and its leaf hash made to match */
function altered(line: Buffer, from: string, to: string): { line: Buffer; leaf: Buffer } {
  const body = Buffer.from(
    line
      .subarray(BODY_START, line.length - 2)
      .toString('utf8')
      .replace(from, to),
  );
  const leaf = leafHash(body);
  return { line: Buffer.from(`{"leaf":"${leaf.toString('hex')}","entry":${body}}\n`), leaf };
}

test('an unsigned checkpoint before a zeroed last line refuses the start, repair or not', async () => {
  const { t, config, segment, lines, unwritten } = await crashedLog();
  // entry 8, after the latest signed checkpoint, altered by someone without the MAC key
  const forged = altered(lines[8]!, 'corr-1', 'corr-9');
  expect(forged.line.equals(lines[8]!)).toBe(false);
  writeFileSync(segment, Buffer.concat([...lines.slice(0, 8), forged.line]));
  const tree = new CompactTree();
  for (const line of lines.slice(0, 8)) tree.push(leafHash(line.subarray(BODY_START, line.length - 2)));
  tree.push(forged.leaf);
  // a checkpoint over it, with the signature of the one the writer would have made (well-formed, not over this)
  const real = decodeCheckpointLine(unwritten.toString('utf8').trimEnd());
  const checkpoint = encodeCheckpointLine({ ...real, root: tree.root().toString('hex') });
  const path = join(t.dir, CHECKPOINTS_FILE);
  writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from(checkpoint), zeroedPage(64), Buffer.from('\n')]));

  const refused = await refusal(t);
  expect(refused).toContain('fails verification: ');
  expect(refused).not.toContain('torn tail');
  expect((await cli('repair', '--config', config, '--json')).json.error).toBe(
    'the log has damage other than a torn tail',
  );
  // refused before the repair, not by the scan after it: nothing moved aside
  expect(await t.open({ tornTail: 'repair' }).catch((err: Error) => err.message)).toContain('fails verification: ');

  expect(tornFiles(t.dir)).toEqual([]);
});
