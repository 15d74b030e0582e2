// What the tests of a start's own records share: the log of a TestLog opened as openAuditLog does, but with a
// witness of the test's making, and a file witness on a volume that has gone read-only.
import { entryMacKey, loadCheckpointSigner, subjectHashKey } from '../../src/audit/config.ts';
import { EntryMac } from '../../src/audit/entry-mac.ts';
import type { FileAuditLog } from '../../src/audit/log.ts';
import { openFileAuditLog } from '../../src/audit/open.ts';
import { FileWitness, type Witness } from '../../src/audit/witness.ts';
import type { Logger } from '../../src/logger.ts';
import type { TestLog } from './helpers.ts';

/** The file witness on a volume remounted read-only after an I/O error (ext4 `errors=remount-ro`): the
 * checkpoint it holds reads as ever, every write is refused at once. Counts the writes tried. */
export class ReadOnlyVolumeWitness extends FileWitness {
  writes = 0;
  override async write(): Promise<void> {
    this.writes += 1;
    throw Object.assign(new Error('read-only file system'), { code: 'EROFS' });
  }
}

/** Opens the log of `t` as openAuditLog does, with `witness` as its only witness and torn tails repaired. */
export async function openWith(t: TestLog, witness: Witness, logger: Logger): Promise<FileAuditLog> {
  const { config } = t;
  return openFileAuditLog({
    dir: config.dir,
    signer: await loadCheckpointSigner(config),
    mac: new EntryMac(entryMacKey(config)),
    subjectKey: subjectHashKey(config),
    checkpointEvery: config.checkpoint_every,
    checkpointIntervalMs: config.checkpoint_interval_ms,
    segmentMaxBytes: config.segment_max_bytes,
    tornTail: 'repair',
    witnesses: [witness],
    minFreeBytes: config.min_free_bytes,
    maxClockSkewMs: config.max_clock_skew_ms,
    logger,
  });
}
