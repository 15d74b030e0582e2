// The older segments' pass runs after the start, in a worker that reads the directory again: whoever can write
// it (not the keys) may change it in between. The pass must end at the tree the start grew from, as the start
// read its signed checkpoint, not at whatever checkpoints.jsonl says by the time the worker reads it: the pass
// checks the older checkpoint lines' form, numbers and roots but not their signatures (only `audit verify` does),
// so an older entry edited (hashed again) with the roots of the checkpoint lines over it rewritten to the
// edited tree would otherwise be reported verified.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCheckpointLine, encodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import { CHECKPOINTS_FILE, decodeEntryLine } from '../../src/audit/format.ts';
import { CompactTree } from '../../src/audit/merkle.ts';
import { type OlderSegments, verifyOlderSegments } from '../../src/audit/older-segments.ts';
import { scanLog } from '../../src/audit/scan.ts';
import { rehashEntry, segmentedLog, segmentsOf } from './support/segmented-log.ts';

type Tree = { root: string; frontier: string[] };
const treeOf = (tree: CompactTree): Tree => ({
  root: tree.root().toString('hex'),
  frontier: tree.frontier().map((node) => node.toString('hex')),
});

/** The root and frontier of the tree of the first `size` entries as the segments hold them now, at every size. */
function treesNow(dir: string): Tree[] {
  const tree = new CompactTree();
  const trees = [treeOf(tree)];
  for (const name of segmentsOf(dir))
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n').slice(0, -1)) {
      tree.push(decodeEntryLine(Buffer.from(line)).leaf);
      trees.push(treeOf(tree));
    }
  return trees;
}

test.each([
  ['from the checkpoint it found', (job: OlderSegments) => job],
  ['through (no checkpoint found to read from)', ({ checkpointsFrom: _, ...job }: OlderSegments) => job],
])(
  'an older entry and the roots over it changed after the start, the start having read checkpoints.jsonl %s: the pass names the tree the start grew from',
  async (_, asRead) => {
    const t = await segmentedLog();
    const scan = await scanLog(t.dir, { signatures: 'latest', fromLatestSegment: true });
    expect(scan.problems).toEqual([]);
    const job = asRead(scan.older!);
    expect(verifyOlderSegments(job)).toEqual([]);

    // after the start: entry 1 edited, the checkpoint lines up to the frontier given the edited tree's roots and
    // frontiers
    // (canonical lines whose signatures no longer verify: the worker does not check them)
    rehashEntry(t.dir, segmentsOf(t.dir)[0]!, 2, (body) => body.replace('mock-eid', 'mock-eix'));
    const trees = treesNow(t.dir);
    const path = join(t.dir, CHECKPOINTS_FILE);
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
    const rewritten = lines.map((line) => {
      const checkpoint = decodeCheckpointLine(line);
      if (checkpoint.size > job.next.first) return `${line}\n`;
      const now = trees[checkpoint.size]!;
      return encodeCheckpointLine({
        ...checkpoint,
        root: now.root,
        ...(checkpoint.frontier ? { frontier: now.frontier } : {}),
      });
    });
    writeFileSync(path, rewritten.join(''));
    expect(rewritten.join('').length).toBe(readFileSync(path, 'utf8').length);

    const problems = verifyOlderSegments(job);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(new RegExp(`^root does not match entries 0\\.\\.${job.next.first - 1}`)),
    ]);
    expect(problems[0]!.position.file).toBe(CHECKPOINTS_FILE);
  },
);
