// Which side of a key-set disagreement an instance is on, from the roster alone: a difference shorter than
// one reload interval (a rotation reaching every instance) is only counted; a lasting one makes the side
// fewer instances run not ready, on a tie the older set's side, and both sides when they are as new.
import { expect, test } from '@jest/globals';
import { judge } from '../../src/keys/agreement-verdict.ts';
import type { Roster, RosterEntry } from '../../src/keys/agreement.ts';

const INTERVAL = 30;
const NOW = 10_000;
/** an instance that has run `digest` (created at `generation`) since `since` */
const entry = (digest: string, generation: number, since = NOW - 300): RosterEntry => ({
  digest,
  generation,
  since,
  seen: NOW,
});
const roster = (...entries: RosterEntry[]): Roster => Object.fromEntries(entries.map((e, i) => [`i${i}`, e]));

test('the same set everywhere: ok, nothing differs', () => {
  expect(judge(entry('X', 1), roster(entry('X', 1), entry('X', 1)), NOW, INTERVAL)).toEqual({
    standing: 'ok',
    disagreeing: [],
    differing: 0,
  });
});

test('a difference younger than one reload interval is counted, not judged (a rotation on its way)', () => {
  // the other instance loaded the rotated set 20 s ago: this one reads it at its next reload
  expect(judge(entry('X', 1), roster(entry('Y', 2, NOW - 20)), NOW, INTERVAL)).toEqual({
    standing: 'ok',
    disagreeing: [],
    differing: 1,
  });
  // this instance changed its set 20 s ago: the others may not have reloaded yet
  expect(judge(entry('Y', 2, NOW - 20), roster(entry('X', 1)), NOW, INTERVAL).standing).toBe('ok');
});

test('two instances apart for longer than a reload interval: the older set is not ready, the newer is', () => {
  const older = judge(entry('X', 1), roster(entry('Y', 2, NOW - INTERVAL)), NOW, INTERVAL);
  expect(older).toEqual({ standing: 'older', disagreeing: ['Y'], differing: 1 });
  const newer = judge(entry('Y', 2, NOW - INTERVAL), roster(entry('X', 1)), NOW, INTERVAL);
  expect(newer).toEqual({ standing: 'ok', disagreeing: ['X'], differing: 1 });
});

test('the set fewer instances run is not ready, however new it is', () => {
  const others = roster(entry('X', 1), entry('X', 1));
  expect(judge(entry('Y', 5), others, NOW, INTERVAL)).toMatchObject({ standing: 'fewer', disagreeing: ['X'] });
  // and one of the two running X stays ready
  expect(judge(entry('X', 1), roster(entry('X', 1), entry('Y', 5)), NOW, INTERVAL)).toMatchObject({
    standing: 'ok',
    disagreeing: ['Y'],
    differing: 1,
  });
});

test('as many instances and as new: nothing says which is right, both sides are not ready', () => {
  expect(judge(entry('X', 3), roster(entry('Y', 3)), NOW, INTERVAL).standing).toBe('tied');
  expect(judge(entry('Y', 3), roster(entry('X', 3)), NOW, INTERVAL).standing).toBe('tied');
});

test('the worst verdict against any other set counts', () => {
  // against Z (one instance, older) this one would stay; against Y (two instances) it loses
  const others = roster(entry('Y', 1), entry('Y', 1), entry('Z', 0));
  expect(judge(entry('X', 2), others, NOW, INTERVAL)).toEqual({
    standing: 'fewer',
    disagreeing: ['Y', 'Z'],
    differing: 3,
  });
});

test('entries without generation or since (written by an older gateway) count as old and lasting', () => {
  const legacy = { digest: 'Y', seen: NOW } as RosterEntry;
  expect(judge(entry('X', 1), roster(legacy), NOW, INTERVAL)).toMatchObject({ standing: 'ok', disagreeing: ['Y'] });
  expect(judge({ digest: 'X', seen: NOW }, roster(legacy), NOW, INTERVAL).standing).toBe('tied');
});
