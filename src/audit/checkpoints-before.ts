// The checkpoint lines before the one the start read checkpoints.jsonl from (./checkpoint-seek.ts), verified after
// the start with the older segments (./older-segments.ts): each line's form, the number sequence from 0 running
// exactly into that checkpoint, sizes and times that never decrease into it; the checkpoints are handed on in
// order to compare their roots with the older segments' tree, that checkpoint last. Signatures are not checked
// here, as the start never checked an earlier checkpoint's (`audit verify` does).
import type { Checkpoint } from './checkpoint-format.ts';
import { CheckpointFile, decodeLine } from './checkpoint-file.ts';
import { CHECKPOINTS_FILE } from './format.ts';
import { positionOf, sequenceProblems } from './scan-checkpoints.ts';
import type { LocatedCheckpoint, ProblemList } from './scan-problems.ts';
import type { FoundCheckpoint } from './checkpoint-seek.ts';

/** The checkpoints of trees of `from` to `upTo` entries up to and including `found`, their lines before it checked
 * as they are read (problems named in `problems`). */
export function* checkpointsBefore(
  dir: string,
  found: FoundCheckpoint,
  problems: ProblemList,
  from: number,
  upTo: number,
): Generator<LocatedCheckpoint> {
  const file = CheckpointFile.open(dir, found.offset);
  let previous: Checkpoint | undefined;
  let line = 0;
  const inRange = (checkpoint: Checkpoint) => checkpoint.size >= from && checkpoint.size <= upTo;
  for (const text of file?.lines() ?? []) {
    line = text.line;
    let checkpoint: Checkpoint;
    try {
      checkpoint = decodeLine(text);
    } catch (err) {
      // any line another follows is damage, zeroed bytes too (only the file's last line can be a torn write)
      problems.checkpoint('checkpoint', positionOf(text), (err as Error).message);
      continue;
    }
    for (const message of sequenceProblems(checkpoint, previous))
      problems.checkpoint('checkpoint', positionOf(text), message);
    previous = checkpoint;
    if (inRange(checkpoint)) yield { checkpoint, position: positionOf(text) };
  }
  // the lines before it counted, the checkpoint found is numbered by its place in the file
  const position = { file: CHECKPOINTS_FILE, line: line + 1, offset: found.offset };
  for (const message of sequenceProblems(found.checkpoint, previous))
    problems.checkpoint('checkpoint', position, message);
  if (inRange(found.checkpoint)) yield { checkpoint: found.checkpoint, position };
}
