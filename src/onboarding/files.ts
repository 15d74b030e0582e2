// The registry as version-controllable files: one YAML document per provider, `<dir>/<id>.yaml`, beside
// the configuration. Every file is validated as a whole, its history too; a problem names the file and the field.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { formatPath } from '../config/path.ts';
import { historyProblems } from './history.ts';
import { type RegistryRecord, registryRecordSchema } from './record.ts';

export interface LoadedRecords {
  records: Map<string, RegistryRecord>;
  problems: string[];
}

const MAX_RECORD_BYTES = 512 * 1024;

export function recordPath(dir: string, id: string): string {
  return join(dir, `${id}.yaml`);
}

function recordFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort();
}

/** The record of `text`, when it is one, and every problem with it: its fields (then there is no record)
 * or its history (./history.ts: then the record is there to show, but nothing may act on it). */
export function parseRecord(
  text: string,
  path: string,
  now = new Date(),
): { record?: RegistryRecord; problems: string[] } {
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES)
    return { problems: [`${path}: larger than ${MAX_RECORD_BYTES} bytes`] };
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) return { problems: doc.errors.map((e) => `${path}: ${e.message.split('\n')[0]}`) };
  const parsed = registryRecordSchema.safeParse(doc.toJS({ maxAliasCount: 10 }));
  if (!parsed.success)
    return { problems: parsed.error.issues.map((i) => `${path}: ${formatPath(i.path)}: ${i.message}`) };
  return { record: parsed.data, problems: historyProblems(parsed.data, now).map((p) => `${path}: ${p}`) };
}

/** Every record of the directory, and every problem with them (a start, a reload, a move refuse any). */
export function loadRecords(dir: string, now = new Date()): LoadedRecords {
  const records = new Map<string, RegistryRecord>();
  const problems: string[] = [];
  let names: string[];
  try {
    names = recordFiles(dir);
  } catch (err) {
    return { records, problems: [`registry.dir: cannot read ${dir} (${(err as NodeJS.ErrnoException).code})`] };
  }
  for (const name of names) {
    const path = join(dir, name);
    const { record, problems: found } = parseRecord(readFileSync(path, 'utf8'), path, now);
    problems.push(...found);
    if (!record) continue;
    if (`${record.id}.yaml` !== name) problems.push(`${path}: id: must match the file name (${record.id}.yaml)`);
    else records.set(record.id, record);
  }
  return { records, problems };
}

/** Writes a record in one step (a reader sees the old file or the new one, never half of it). */
export function writeRecord(dir: string, record: RegistryRecord): string {
  const path = recordPath(dir, record.id);
  const temporary = join(dir, `.${record.id}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(temporary, stringify(record, { lineWidth: 0 }), { mode: 0o644 });
  renameSync(temporary, path);
  return path;
}

/** Changes whenever a record file is added, removed or rewritten: what a single instance polls. */
export function directoryVersion(dir: string): string {
  try {
    return recordFiles(dir)
      .map((name) => {
        const stat = statSync(join(dir, name));
        return `${name}:${stat.mtimeMs}:${stat.size}:${stat.ino}`;
      })
      .join('|');
  } catch {
    return 'unreadable';
  }
}
