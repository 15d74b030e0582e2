// A long log made quickly: entries of the gateway's form, each sealed with the log's entry MAC key and
// chained as the writer chains them, written straight into small segments (not one durable write each, which
// would take minutes for millions), and real signed checkpoints at the sizes asked for.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeCheckpointLine } from '../../../src/audit/checkpoint-format.ts';
import { entryMacKey } from '../../../src/audit/config.ts';
import { EntryMac, FIRST_PREVIOUS } from '../../../src/audit/entry-mac.ts';
import { AUDIT_EVENTS } from '../../../src/audit/events.ts';
import { encodeEntryLine } from '../../../src/audit/format.ts';
import { loadOrCreateCheckpointKey, signCheckpoint } from '../../../src/audit/keys.ts';
import { CompactTree } from '../../../src/audit/merkle.ts';
import { type TestLog, testLog } from '../helpers.ts';

const SEGMENT_ENTRIES = 8192;

export async function longLog(entries: number, checkpointSizes: number[]): Promise<TestLog> {
  const t = testLog();
  mkdirSync(t.dir, { recursive: true, mode: 0o700 });
  mkdirSync(join(t.root, 'keys'), { recursive: true, mode: 0o700 });
  const signer = await loadOrCreateCheckpointKey(t.config.signing_key, t.config.signing_alg);
  const mac = new EntryMac(entryMacKey(t.config));
  const tree = new CompactTree();
  const roots = new Map<number, string>();
  const time = new Date().toISOString();
  let previous: Buffer = FIRST_PREVIOUS;
  for (let first = 0; first < entries; first += SEGMENT_ENTRIES) {
    let text = '';
    for (let i = first; i < Math.min(entries, first + SEGMENT_ENTRIES); i++) {
      const body = `{"i":${i},"t":"${time}","type":"provider_chosen","code":"${AUDIT_EVENTS.provider_chosen}","corr":"login-${i}"}`;
      const { line, leaf } = encodeEntryLine(mac.seal(body, previous));
      text += line;
      tree.push(leaf);
      previous = leaf;
      if (checkpointSizes.includes(tree.size)) roots.set(tree.size, tree.root().toString('hex'));
    }
    writeFileSync(join(t.dir, `segment-${String(first).padStart(12, '0')}.jsonl`), text, { mode: 0o600 });
  }
  const lines: string[] = [];
  for (const [n, size] of checkpointSizes.entries())
    lines.push(encodeCheckpointLine(await signCheckpoint({ n, size, root: roots.get(size)!, time }, signer)));
  writeFileSync(join(t.dir, 'checkpoints.jsonl'), lines.join(''), { mode: 0o600 });
  return t;
}
