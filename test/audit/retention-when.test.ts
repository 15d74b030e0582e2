// When retention runs and what it leaves: the latest segment is kept however old its entries (the writer goes
// on appending to it), and a retirement pass follows a segment roll-over (a segment left behind), not every
// durable write: each pass lists the directory.
import { jest } from '@jest/globals';
import { loginEvents } from './helpers.ts';
import { DAY_MS, configured, firstOf, markerOf, openAndRetire } from './support/old-log.ts';
import { segmentedLog, segmentsOf } from './support/segmented-log.ts';
import { setClock } from '../support/clock.ts';
import { cli, configFile } from './helpers.ts';

test('every segment older than the period: all but the latest are retired, the log begins at the latest', async () => {
  setClock(Date.now() - 40 * DAY_MS);
  let t: Awaited<ReturnType<typeof segmentedLog>>;
  try {
    t = await segmentedLog();
  } finally {
    jest.useRealTimers();
  }
  const segments = segmentsOf(t.dir);
  expect(segments.length).toBeGreaterThan(2);
  const latest = segments.at(-1)!;
  const log = await openAndRetire(configured(t));
  await log.close();
  expect(segmentsOf(t.dir)).toEqual([latest]);
  expect(markerOf(t).before).toBe(firstOf(latest));
  const verify = await cli('verify', t.dir, '--config', configFile(t), '--json');
  expect(verify.json.problems).toEqual([]);
});

test('a retirement pass after each segment roll-over, none after a write that began no segment', async () => {
  const t = await segmentedLog();
  // a quiet timer: only writes could start a pass
  const log = await openAndRetire(configured(t, { checkpoint_interval_ms: 3_600_000 }));
  const run = jest.spyOn(log.retention!, 'run');
  const before = segmentsOf(t.dir).length;
  for (let n = 10; n < 14; n++) for (const e of loginEvents(n)) await log.record(e);
  const begun = segmentsOf(t.dir).length - before;
  expect(begun).toBeGreaterThan(0);
  expect(run).toHaveBeenCalledTimes(begun);
  await log.close();
});
