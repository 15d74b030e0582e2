// The older segments of a log the start did not read (./scan-frontier.ts), verified after it in a worker thread
// while the gateway serves logins: every entry's form, leaf hash, index and time, the tree at every checkpoint up
// to the latest segment's start, ending at that checkpoint (whose signature and frontier the start checked) and
// at the entry where the latest segment begins. Their MACs are not checked: a signed checkpoint covers them.
// When the start read checkpoints.jsonl only from that checkpoint on (./checkpoint-seek.ts), the lines before it
// are checked here too (./checkpoints-before.ts).
// A problem fails the log closed (FileAuditLog.failClosed) as a failed write does.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.ts';
import { checkpointsBefore } from './checkpoints-before.ts';
import type { FoundCheckpoint } from './checkpoint-seek.ts';
import { checkpointsInOrder } from './scan-checkpoints.ts';
import { EntryScan } from './scan-entries.ts';
import { describeProblem, type LocatedCheckpoint, type Problem, ProblemList } from './scan-problems.ts';
import { type Retirement, retiredStart } from './scan-retired.ts';
import type { Segment } from './segments.ts';

/** What the start leaves to verify (plain data: it is handed to a worker thread). */
export interface OlderSegments {
  dir: string;
  /** the segments before the latest, in order */
  segments: Segment[];
  /** the latest segment: the older ones end where it begins, at the size of the checkpoint the start grew from */
  next: Segment;
  /** the checkpoint the start grew the tree from, as it read it (signature and frontier checked): the older
   * segments must make its tree, whatever checkpoints.jsonl holds by the time the pass reads it */
  frontier: LocatedCheckpoint;
  /** the part of checkpoints.jsonl the start read, and the lines it refused (named already) */
  checkpointsBytes: number;
  refused: number[];
  /** the checkpoint the start read checkpoints.jsonl from, when not from its first line: the lines before it are
   * verified here */
  checkpointsFrom?: FoundCheckpoint;
  /** the older entries were retired up to here: the first segment begins there (./scan-retired.ts) */
  retirement?: Retirement;
}

const MAX_PROBLEMS = 5;

/** Verifies the older segments (in the calling thread); their problems, the first few. */
export function verifyOlderSegments(job: OlderSegments): Problem[] {
  const problems = new ProblemList(MAX_PROBLEMS);
  const read = { size: job.checkpointsBytes, refused: new Set(job.refused) };
  const upTo = job.next.first;
  const start = job.retirement && retiredStart(job.retirement);
  const from = job.retirement?.before ?? 0;
  const checkpoints = job.checkpointsFrom
    ? checkpointsBefore(job.dir, job.checkpointsFrom, problems, from, upTo)
    : checkpointsInOrder(job.dir, read, from, upTo);
  const scan = new EntryScan(checkpoints, upTo, problems, {}, start);
  scan.segments(job.dir, job.segments, false);
  scan.startsHere(job.next);
  // read through, the file's lines end the pass, as the worker finds them: the checkpoint the start grew from, as
  // it read it, must be the tree's (with checkpointsFrom, checkpointsBefore hands the scan that one last)
  const { checkpoint, position } = job.frontier;
  if (!job.checkpointsFrom && scan.tree.size === upTo && scan.tree.root().toString('hex') !== checkpoint.root)
    problems.entry(
      'checkpoint',
      position,
      `root does not match entries ${from}..${upTo - 1} (an entry up to index ${upTo - 1} was altered, removed or inserted)`,
    );
  scan.checkCoverage();
  return problems.all();
}

/** The log as the background pass sees it. */
export interface FailsClosed {
  readonly dir: string;
  failClosed(failure: string, message: string, fields: Record<string, unknown>): void;
}

export interface BackgroundCheck {
  /** settles once the pass has ended, and the log has been failed closed if it found a problem: true when the
   * older segments verified */
  done: Promise<boolean>;
  stop(): Promise<void>;
}

const WORKER = new URL('./older-segments-worker.ts', import.meta.url);

/** Starts the pass over `job` in a worker thread; a problem (or a pass that cannot run) fails `log` closed. */
export function checkOlderSegments(job: OlderSegments, log: FailsClosed, logger: Logger): BackgroundCheck {
  let stopped = false;
  const worker = new Worker(WORKER, { workerData: job });
  worker.unref(); // a log closed (or a command ended) stops it; it never holds the process up
  const fail = (problem: string, file: string | undefined) =>
    log.failClosed(
      `older segments fail verification: ${problem}`,
      'audit log fails verification of its older segments; refusing further events until restart',
      { file, problem },
    );
  const done = new Promise<Problem[] | Error>((resolve) => {
    worker.once('message', (problems: Problem[]) => resolve(problems));
    worker.once('error', (err) => resolve(err));
    worker.once('exit', (code) => resolve(new Error(`verification ended early (exit ${code})`)));
  }).then((outcome) => {
    if (stopped) return false;
    if (outcome instanceof Error) {
      fail(`cannot verify: ${outcome.message}`, undefined);
      return false;
    }
    const [first] = outcome;
    if (first) {
      fail(describeProblem(first), first.position.file);
      return false;
    }
    logger.info('audit log older segments verified', {
      dir: log.dir,
      segments: job.segments.length,
      entries: job.next.first - (job.retirement?.before ?? 0),
    });
    return true;
  });
  return {
    done,
    async stop() {
      stopped = true;
      await worker.terminate();
      await done;
    },
  };
}
