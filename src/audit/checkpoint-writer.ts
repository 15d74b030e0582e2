// The log's signed checkpoints. One is due when entries are not yet covered on the checkpoint_interval_ms
// tick, at close() or on demand, or checkpoint_every entries past the latest. Each is appended durably to
// checkpoints.jsonl (which, like a segment, must still end where this writer left it: ./segments.ts
// OwnAppendFile), then handed to the witnesses off the write path. While the witnesses cannot be updated the
// log refuses events (./witness.ts): a witness left behind would let a rollback to its checkpoint go unnoticed.
import { type Checkpoint, encodeCheckpointLine, treeCheckpoint } from './checkpoint-format.ts';
import { type CheckpointSigner, signCheckpoint } from './keys.ts';
import type { CompactTree } from './merkle.ts';
import type { FileAuditLogOptions, OpenedState } from './options.ts';
import type { OwnAppendFile } from './segments.ts';
import { witnessLine, WitnessPublisher } from './witness.ts';

export class CheckpointWriter {
  private readonly file: OwnAppendFile;
  private readonly signer: CheckpointSigner;
  private readonly witnesses: WitnessPublisher;
  /** checkpoint_every: entries past the latest checkpoint that make the next one due */
  private readonly every: number;
  /** a checkpoint is to be written once the entries queued are (the log's write loop takes it) */
  due = false;
  /** the latest signed checkpoint (what the witnesses hold and monitors fetch) */
  latest: Checkpoint | undefined;

  /** `state.checkpoints`: checkpoints.jsonl opened at start-up; `state.latest`: its last checkpoint, if any. */
  constructor(
    state: Pick<OpenedState, 'checkpoints' | 'latest'>,
    options: Pick<FileAuditLogOptions, 'signer' | 'witnesses' | 'logger' | 'checkpointEvery'>,
  ) {
    this.file = state.checkpoints;
    this.latest = state.latest;
    this.signer = options.signer;
    this.every = options.checkpointEvery;
    this.witnesses = new WitnessPublisher(options.witnesses, options.logger);
  }

  /** Tree size of the latest checkpoint. */
  get size(): number {
    return this.latest?.size ?? 0;
  }

  /** Marks a checkpoint due if entries of `tree` are not yet covered by one; whether it did. */
  markDue(tree: CompactTree): boolean {
    if (tree.size <= this.size) return false;
    this.due = true;
    return true;
  }

  /** Takes the mark: whether a checkpoint of `tree` is to be written now (marked due, or checkpoint_every
   * entries past the latest), and entries are not yet covered by one. */
  take(tree: CompactTree): boolean {
    if (!this.due && tree.size - this.size < this.every) return false;
    this.due = false;
    return tree.size > this.size;
  }

  /** Why events are refused while the witnesses cannot be updated, undefined while they can. */
  get witnessFailure(): string | undefined {
    return this.witnesses.failure;
  }

  /** The next checkpoint, of `tree` at `time`, signed; `withFrontier`: with the subtrees a start goes on from. */
  sign(tree: CompactTree, time: number, withFrontier: boolean): Promise<Checkpoint> {
    return signCheckpoint(treeCheckpoint(this.latest ? this.latest.n + 1 : 0, tree, time, withFrontier), this.signer);
  }

  /** Appends `cp` durably; once on disk it is the latest and goes to the witnesses. */
  async append(cp: Checkpoint): Promise<void> {
    await this.file.append(Buffer.from(encodeCheckpointLine(cp)));
    this.latest = cp;
    this.witnesses.publish(witnessLine(cp));
  }

  /** Hands the latest checkpoint to the witnesses again (a witness behind the log catches up). */
  republish(): void {
    if (this.latest) this.witnesses.publish(witnessLine(this.latest));
  }

  /** While the witnesses are left behind: sends the latest checkpoint again unless a send is under way, and
   * resolves once that send has ended (./witness.ts retry). */
  async retryWitnesses(): Promise<void> {
    if (this.witnesses.failure && this.latest) await this.witnesses.retry(witnessLine(this.latest));
  }

  /** Resolves once every checkpoint handed to the witnesses so far has been sent (or has failed). */
  settled(): Promise<void> {
    return this.witnesses.settled();
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
