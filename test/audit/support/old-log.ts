// A real log whose first segments were written 40 days ago (the clock moved back while they were written) and
// whose latest segments are of today, in segments of 4 KiB each begun by a frontier checkpoint; and the ways the
// retention tests open it and read what a retirement left.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { auditConfigSchema, openAuditLog } from '../../../src/audit/config.ts';
import { decodeEntryLine } from '../../../src/audit/format.ts';
import { loadOrCreateCheckpointKey } from '../../../src/audit/keys.ts';
import type { FileAuditLog } from '../../../src/audit/log.ts';
import { RETIRED_FILE, signRetiredMarker, writeRetiredMarker } from '../../../src/audit/retired-marker.ts';
import { setClock } from '../../support/clock.ts';
import { loginEvents, testLog, type TestLog } from '../helpers.ts';
import { segmentsOf } from './segmented-log.ts';

export const DAY_MS = 86_400_000;
export const firstOf = (name: string): number => Number(/segment-(\d+)/.exec(name)![1]);

/** 8 logins recorded 40 days ago, then 4 today (one event at a time, a checkpoint every 5 entries); `old`: the
 * segments written 40 days ago (all but the latest then). */
export async function oldLog(): Promise<TestLog & { old: string[] }> {
  const t = testLog({ checkpoint_every: 5, segment_max_bytes: 4096 });
  setClock(Date.now() - 40 * DAY_MS);
  try {
    const log = await t.open();
    for (let n = 0; n < 8; n++) for (const e of loginEvents(n)) await log.record(e);
    await log.close();
  } finally {
    jest.useRealTimers();
  }
  // every segment but the latest is old now; today's entries begin after them
  const old = segmentsOf(t.dir).slice(0, -1);
  const log = await t.open();
  for (let n = 8; n < 12; n++) for (const e of loginEvents(n)) await log.record(e);
  await log.close();
  t.logger.lines.length = 0;
  return { ...t, old };
}

/** The same log configured with `settings` (retention_days: 30 unless given). */
export function configured(t: TestLog, settings: Record<string, unknown> = {}): TestLog {
  const config = auditConfigSchema.parse({ ...t.config, retention_days: 30, ...settings });
  return { ...t, config, open: (o) => openAuditLog(config, t.logger, o) };
}

/** Opens the log (it must start), waits for the older segments' pass and for the retirement it allows. */
export async function openAndRetire(t: TestLog): Promise<FileAuditLog> {
  const log = await t.open();
  await log.retention?.started;
  await log.retention?.settled();
  return log;
}

export const markerOf = (t: TestLog): { before: number; leaf: string; time: string; sig: string } =>
  JSON.parse(readFileSync(join(t.dir, RETIRED_FILE), 'utf8'));

export const hasMarker = (t: TestLog): boolean => existsSync(join(t.dir, RETIRED_FILE));

/** The leaf hash of the last entry of `segment`. */
export function lastLeaf(t: TestLog, segment: string): string {
  const lines = readFileSync(join(t.dir, segment), 'utf8').split('\n').filter(Boolean);
  return decodeEntryLine(Buffer.from(lines.at(-1)!)).leaf.toString('hex');
}

/** A marker signed with the log's own checkpoint key, as the writer makes it (durably, in place). */
export async function writeMarker(t: TestLog, before: number, leaf: string): Promise<void> {
  const signer = await loadOrCreateCheckpointKey(t.config.signing_key, 'EdDSA');
  writeRetiredMarker(t.dir, await signRetiredMarker({ before, leaf, time: new Date().toISOString() }, signer));
}
