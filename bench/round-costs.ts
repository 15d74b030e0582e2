// What a measured round cost per login, from samples taken just before and just after it: CPU per
// process, the server's counted operations (bench/cpu-probe.ts: fsyncs, signatures, verifications, HMACs)
// and, on Redis, the commands, reads and bytes held.
import type { Probed, PrivateRedis } from './processes.ts';

type CpuSample = Awaited<ReturnType<Probed['cpu']>>;
type RedisStats = Awaited<ReturnType<PrivateRedis['stats']>>;
type RedisBytes = Awaited<ReturnType<PrivateRedis['bytes']>>;

export interface RoundSamples {
  /** per process, by its name in the report; the first is the server's */
  names: string[];
  cpu0: CpuSample[];
  cpu1: CpuSample[];
  /** the load generator's own CPU over the round */
  loadCpuMicros: number;
  stats0?: RedisStats | undefined;
  stats1?: RedisStats | undefined;
  bytes0?: RedisBytes | undefined;
  bytes1?: RedisBytes | undefined;
}

/** CPU milliseconds per login and process, and the server's operations per login. */
export function roundCosts(s: RoundSamples, logins: number) {
  const n = Math.max(1, logins);
  const cpuMs: Record<string, number> = { load: s.loadCpuMicros / 1000 / n };
  s.names.forEach((name, i) => {
    cpuMs[name] = (s.cpu1[i]!.cpuMicros - s.cpu0[i]!.cpuMicros) / 1000 / n;
  });
  const counts = (k: (key: string) => boolean) => {
    const sum = (c: Record<string, number>) => Object.entries(c).reduce((a, [key, v]) => a + (k(key) ? v : 0), 0);
    return (sum(s.cpu1[0]!.counts) - sum(s.cpu0[0]!.counts)) / n;
  };
  const perLogin: Record<string, number> = {
    fsyncs: counts((key) => key.startsWith('fs.')),
    signs: counts((key) => key === 'sign' || key === 'createSign' || key.startsWith('subtle.sign')),
    verifies: counts((key) => key === 'verify' || key === 'createVerify' || key.startsWith('subtle.verify')),
    hmacs: counts((key) => key === 'createHmac' || key.endsWith('.HMAC')),
  };
  const { stats0, stats1, bytes0, bytes1 } = s;
  if (stats0 && stats1 && bytes0 && bytes1) {
    // less the bench's own INFO (one command, one read)
    perLogin.redisCommands = (stats1.commands - stats0.commands - 1) / n;
    perLogin.redisReads = (stats1.reads - stats0.reads - 1) / n;
    perLogin.redisBytes = (bytes1.bytes - bytes0.bytes) / n;
  }
  return { cpuMs, perLogin };
}

/** The server's milliseconds per login in each login step (bench/cpu-probe.ts `step <name>` counters). */
export function stepMs(cpu0: CpuSample, cpu1: CpuSample, logins: number): Record<string, number> {
  const n = Math.max(1, logins);
  const out: Record<string, number> = {};
  for (const key of Object.keys(cpu1.counts).filter((k) => k.startsWith('step '))) {
    out[key.slice(5)] = ((cpu1.counts[key] ?? 0) - (cpu0.counts[key] ?? 0)) / 1000 / n;
  }
  return out;
}
