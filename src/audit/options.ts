// Options and status of the file-backed audit log (./log.ts, opened by ./open.ts).
import type { Logger } from '../logger.ts';
import type { Checkpoint } from './checkpoint-format.ts';
import type { EntryMac } from './entry-mac.ts';
import type { AuditorKey, CheckpointSigner } from './keys.ts';
import type { WriterLock } from './lock.ts';
import type { CompactTree } from './merkle.ts';
import type { FreeSpace } from './space.ts';
import type { OwnAppendFile } from './segments.ts';
import type { Witness } from './witness.ts';

export interface FileAuditLogOptions {
  dir: string;
  signer: CheckpointSigner;
  /** authenticates every entry (see ./entry-mac.ts) */
  mac: EntryMac;
  /** HMAC key for subjects */
  subjectKey: string;
  /** released claims are stored only when an auditor key is configured, and then only as JWE */
  auditor?: AuditorKey | undefined;
  /** write a checkpoint after this many new entries */
  checkpointEvery: number;
  /** ... or after this long, when there are entries not yet covered */
  checkpointIntervalMs: number;
  segmentMaxBytes: number;
  /** what to do with a torn tail found at start-up (see README) */
  tornTail: 'refuse' | 'repair';
  /** where the latest checkpoint is also kept, outside the directory */
  witnesses: Witness[];
  /** refuse events while the volume has less free space than this */
  minFreeBytes: number;
  /** a time in the log further ahead of the clock than this refuses the start */
  maxClockSkewMs: number;
  /** whole segments whose last entry is older than this are retired (./retention.ts); undefined: kept */
  retentionDays?: number | undefined;
  /** retired segments are moved here instead of being deleted */
  archiveDir?: string | undefined;
  logger: Logger;
  /** most entries per write (bounds memory under a burst) */
  maxBatch?: number;
}

export interface AuditStatus {
  healthy: boolean;
  entries: number;
  /** tree size of the latest checkpoint */
  checkpointed: number;
  /** durable writes since open (entries / writes = the group-commit batch size) */
  writes: number;
  error?: string;
}

/** What open() found and hands over to the writer. */
export interface OpenedState {
  tree: CompactTree;
  /** the leaf hash of the last entry, which the next entry's MAC is chained to (./entry-mac.ts) */
  lastLeaf: Buffer;
  latest: Checkpoint | undefined;
  lastTime: number;
  /** the tail segment, none in a new log */
  segment: OwnAppendFile | undefined;
  checkpoints: OwnAppendFile;
  space: FreeSpace;
  lock: WriterLock;
}
