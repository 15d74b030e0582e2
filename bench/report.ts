// What `npm run bench` prints: per target and user count the median over rounds of logins/s, p50, p99,
// the ratio to the floor measured in the same run, CPU ms per login of each process from its own CPU
// time, Redis commands, reads (round trips) and bytes per login, fsyncs and signatures per login; then
// the goals of the login-cost issue checked against these figures.
import { cpus, loadavg } from 'node:os';

export interface Round {
  target: string;
  users: number;
  logins: number;
  failures: number;
  firstFailure?: string | undefined;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU ms per login of each process involved (gateway, bank, floor, load) */
  cpuMs: Record<string, number>;
  /** counters per login (Redis commands/reads/bytes, fsyncs, signatures) */
  perLogin: Record<string, number>;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return Number.NaN;
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

export interface Summary {
  target: string;
  users: number;
  rounds: number;
  failures: number;
  perSecond: number;
  p50: number;
  p99: number;
  ratio: number;
  cpuMs: Record<string, number>;
  perLogin: Record<string, number>;
}

export function summarise(rounds: Round[], floorTarget: string): Summary[] {
  const groups = new Map<string, Round[]>();
  for (const r of rounds)
    groups.set(`${r.users}\u0000${r.target}`, [...(groups.get(`${r.users}\u0000${r.target}`) ?? []), r]);
  const out: Summary[] = [];
  for (const group of groups.values()) {
    const { target, users } = group[0]!;
    const floor = groups.get(`${users}\u0000${floorTarget}`) ?? [];
    const keys = (pick: (r: Round) => Record<string, number>) => [
      ...new Set(group.flatMap((r) => Object.keys(pick(r)))),
    ];
    const perSecond = median(group.map((r) => r.perSecond));
    out.push({
      target,
      users,
      rounds: group.length,
      failures: group.reduce((n, r) => n + r.failures, 0),
      perSecond,
      p50: median(group.map((r) => r.p50)),
      p99: median(group.map((r) => r.p99)),
      ratio: perSecond / median(floor.map((r) => r.perSecond)),
      cpuMs: Object.fromEntries(
        keys((r) => r.cpuMs).map((k) => [k, median(group.map((r) => r.cpuMs[k] ?? Number.NaN))]),
      ),
      perLogin: Object.fromEntries(
        keys((r) => r.perLogin).map((k) => [k, median(group.map((r) => r.perLogin[k] ?? Number.NaN))]),
      ),
    });
  }
  return out;
}

const f = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

export function table(summaries: Summary[]): string {
  const head =
    '| target | users | logins/s | p50 ms | p99 ms | x floor | gateway CPU ms/login | bank CPU ms/login | load CPU ms/login | Redis cmds/login | Redis reads/login | Redis B/login | fsyncs/login | signs/login | verifies/login | failures |';
  const rule = `|${head
    .split('|')
    .slice(1, -1)
    .map(() => '---')
    .join('|')}|`;
  const rows = summaries.map((s) => {
    const serverCpu = s.cpuMs.gateway ?? s.cpuMs.floor;
    return `| ${s.target} | ${s.users} | ${f(s.perSecond)} | ${f(s.p50, 1)} | ${f(s.p99, 1)} | ${f(s.ratio, 2)} | ${f(serverCpu, 2)} | ${f(s.cpuMs.bank, 2)} | ${f(s.cpuMs.load, 2)} | ${f(s.perLogin.redisCommands, 1)} | ${f(s.perLogin.redisReads, 1)} | ${f(s.perLogin.redisBytes)} | ${f(s.perLogin.fsyncs, 2)} | ${f(s.perLogin.signs, 1)} | ${f(s.perLogin.verifies, 1)} | ${s.failures} |`;
  });
  return [head, rule, ...rows].join('\n');
}

/** The login-cost issue's goals, each with the figures it was judged on. */
export function goals(summaries: Summary[], floorTarget: string, bankTarget: string, workersTarget?: string): string[] {
  const find = (target: string, users: number) => summaries.find((s) => s.target === target && s.users === users);
  const lines: string[] = [];
  const say = (ok: boolean | undefined, text: string) =>
    lines.push(`${ok === undefined ? 'n/a ' : ok ? 'met ' : 'MISS'} ${text}`);
  const b16 = find(bankTarget, 16);
  const b1 = find(bankTarget, 1);
  const f1 = find(floorTarget, 1);
  say(b16 && b16.ratio >= 0.7, `16 users, Redis + bank: ${f(b16?.ratio, 2)}x the floor's logins/s (goal >= 0.7x)`);
  say(
    b16 && b16.p99 <= 4 * b16.p50,
    `16 users, Redis + bank: p99 ${f(b16?.p99, 1)} ms <= 4 x p50 ${f(b16?.p50, 1)} ms`,
  );
  say(
    b1 && f1 && b1.p50 <= 1.5 * f1.p50,
    `1 user, Redis + bank: p50 ${f(b1?.p50, 1)} ms <= 1.5 x the floor's ${f(f1?.p50, 1)} ms`,
  );
  const cpu = b16?.cpuMs.gateway;
  say(
    cpu !== undefined && cpu <= 5,
    `gateway CPU per login with Redis, audit and banklink: ${f(cpu, 2)} ms (goal <= 5)`,
  );
  if (workersTarget) {
    const w16 = find(workersTarget, 16);
    say(w16 && w16.ratio >= 1, `--workers, 16 users: ${f(w16?.ratio, 2)}x the single-process floor (goal >= 1.0x)`);
  }
  return lines;
}

/** An argument as a shell would take it back: quoted when it holds a space or a shell character. */
const shellWord = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);

/** What a run prints after its rounds: the command, the machine, the table, the goals and the steps. */
export function report(o: {
  summaries: Summary[];
  steps: Map<string, Record<string, number>>;
  rounds: number;
  seconds: number;
  warmup: number;
  workersTarget?: string | undefined;
}): string {
  const cpu = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const lines = [
    `\nnode bench/run.ts ${process.argv.slice(2).map(shellWord).join(' ')}`.trimEnd(),
    `${new Date().toISOString()}, node ${process.version}, ${cpu.length} x ${cpu[0]?.model}, load average ${load}; ${o.rounds} rounds x ${o.seconds} s (+${o.warmup} s warm-up) per target and user count; medians over rounds\n`,
    table(o.summaries),
    '',
    ...goals(o.summaries, 'floor', 'gateway Redis, test bank', o.workersTarget),
  ];
  for (const [target, byStep] of o.steps) {
    const rows = Object.entries(byStep).sort((a, b) => b[1] - a[1]);
    const sum = rows.reduce((a, [, ms]) => a + ms, 0);
    lines.push(`\nCPU ms per login by HTTP request, ${target} (requests' own CPU; the rest is outside any request):`);
    lines.push('| request | CPU ms/login |\n|---|---|');
    for (const [step, ms] of rows) lines.push(`| ${step} | ${ms.toFixed(2)} |`);
    lines.push(`| all requests | ${sum.toFixed(2)} |`);
  }
  return lines.join('\n');
}
