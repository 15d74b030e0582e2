// Reads checkpoints.jsonl for a scan: each checkpoint's form, signature (every one, or only the
// latest), number sequence, growing size and non-decreasing time, and a torn last line.
import { join } from 'node:path';
import { CHECKPOINTS_FILE, lines, type Position, tornTailOffset } from './format.ts';
import { type Checkpoint, decodeCheckpointLine } from './checkpoint-format.ts';
import { type CheckpointVerifier, verifyCheckpointSignature } from './keys.ts';
import type { LocatedCheckpoint, ProblemList, TornTail } from './scan-problems.ts';
import { readRegularFile } from './segments.ts';

function readCheckpointsFile(dir: string): Buffer | undefined {
  try {
    return readRegularFile(join(dir, CHECKPOINTS_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Problems of `checkpoint` as the successor of `previous`. */
function sequenceProblems(checkpoint: Checkpoint, previous: Checkpoint | undefined): string[] {
  const problems: string[] = [];
  const expectedN = previous ? previous.n + 1 : 0;
  if (checkpoint.n !== expectedN)
    problems.push(
      `checkpoint number ${checkpoint.n} where ${expectedN} was expected (checkpoints removed, inserted or reordered)`,
    );
  if (previous && checkpoint.size < previous.size)
    problems.push(`tree size ${checkpoint.size} is smaller than the previous checkpoint's ${previous.size}`);
  if (previous && checkpoint.time < previous.time)
    problems.push(`time ${checkpoint.time} is earlier than the previous checkpoint's ${previous.time}`);
  return problems;
}

export async function readCheckpoints(
  dir: string,
  key: CheckpointVerifier | undefined,
  signatures: 'all' | 'latest',
  problems: ProblemList,
): Promise<{ checkpoints: LocatedCheckpoint[]; torn?: TornTail }> {
  const checkpoints: LocatedCheckpoint[] = [];
  const file = readCheckpointsFile(dir);
  if (!file) return { checkpoints };
  const fileLines = [...lines(file)];
  let previous: Checkpoint | undefined;
  for (const line of fileLines) {
    const position: Position = { file: CHECKPOINTS_FILE, line: line.line, offset: line.start };
    let checkpoint: Checkpoint;
    try {
      checkpoint = decodeCheckpointLine(file.toString('utf8', line.start, line.end));
      if (signatures === 'all' || line.line === fileLines.length) {
        if (key) await verifyCheckpointSignature(checkpoint, key);
        else problems.checkpoint('key', position, 'no checkpoint public key to verify the signature with');
      }
    } catch (err) {
      problems.checkpoint('checkpoint', position, (err as Error).message);
      continue;
    }
    for (const message of sequenceProblems(checkpoint, previous)) problems.checkpoint('checkpoint', position, message);
    previous = checkpoint;
    checkpoints.push({ checkpoint, position });
  }
  const tornAt = tornTailOffset(file);
  if (tornAt === undefined) return { checkpoints };
  const torn: TornTail = {
    file: CHECKPOINTS_FILE,
    offset: tornAt,
    length: file.length - tornAt,
    line: fileLines.length + 1,
  };
  problems.checkpoint(
    'torn',
    { file: CHECKPOINTS_FILE, line: torn.line, offset: torn.offset },
    `${torn.length} bytes of an incomplete checkpoint after the last complete line`,
  );
  return { checkpoints, torn };
}
