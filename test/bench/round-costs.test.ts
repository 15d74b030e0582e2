// The bench's per-login costs: each process's CPU over the round, the server's counted operations and the
// Redis deltas (less the bench's own INFO), each divided by the logins the round completed.
import { roundCosts, stepMs } from '../../bench/round-costs.ts';

const sample = (cpuMicros: number, counts: Record<string, number>) => ({ cpuMicros, processes: 1, counts });

test('CPU, operations and Redis use per login, from the samples around a round', () => {
  const costs = roundCosts(
    {
      names: ['gateway', 'bank'],
      cpu0: [sample(1_000, { 'fs.write': 2, sign: 1, 'subtle.verify': 0, createHmac: 5 }), sample(0, {})],
      cpu1: [sample(21_000, { 'fs.write': 12, sign: 11, 'subtle.verify': 20, createHmac: 15 }), sample(4_000, {})],
      loadCpuMicros: 6_000,
      stats0: { commands: 100, reads: 50 },
      stats1: { commands: 141, reads: 71 },
      bytes0: { bytes: 1_000, keys: 1 },
      bytes1: { bytes: 3_000, keys: 9 },
    },
    10,
  );
  expect(costs).toEqual({
    cpuMs: { load: 0.6, gateway: 2, bank: 0.4 },
    perLogin: { fsyncs: 1, signs: 1, verifies: 2, hmacs: 1, redisCommands: 4, redisReads: 2, redisBytes: 200 },
  });
});

test('without Redis samples no Redis costs; a round without logins divides by one', () => {
  const { perLogin } = roundCosts(
    { names: ['floor'], cpu0: [sample(0, {})], cpu1: [sample(5_000, { sign: 3 })], loadCpuMicros: 0 },
    0,
  );
  expect(perLogin).toEqual({ fsyncs: 0, signs: 3, verifies: 0, hmacs: 0 });
});

test('step times: milliseconds per login of each `step` counter', () => {
  expect(
    stepMs(sample(0, { 'step start': 1_000 }), sample(0, { 'step start': 5_000, 'step callback': 2_000 }), 2),
  ).toEqual({
    start: 2,
    callback: 1,
  });
});
