// Where a gateway process's CPU goes, from `perf` samples: unlike a V8 profile (bench/profile.ts), which
// samples the main thread by the clock whether it runs or waits, perf counts on-CPU time of every thread,
// the kernel's part included (socket writes, the audit log's durable writes) and V8's own threads (compiling, collecting).
//   node bench/run.ts ... --node-options=--perf-basic-prof       (JIT frames get names)
//   perf record -e cpu-clock -F 999 -g -p GATEWAY_PID -o perf.data -- sleep 10
//   perf script -i perf.data -F comm,tid,ip,sym,dso > perf.txt
//   node bench/perf-profile.ts perf.txt
// Prints each thread kind's share of the process, the main thread's kernel share, and the main thread's
// time by owner: the innermost JavaScript frame that is our code or a dependency (as bench/profile.ts).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node bench/perf-profile.ts PERF_SCRIPT_OUTPUT\n');
  process.exit(2);
}
interface Sample {
  thread: string;
  frames: { symbol: string; dso: string }[];
}
const samples: Sample[] = [];
let current: Sample | undefined;
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (!line.trim()) {
    if (current) samples.push(current);
    current = undefined;
  } else if (!/^\s/.test(line)) {
    current = { thread: line.trim().split(/\s+/)[0]!, frames: [] };
  } else {
    const m = /^\s+[0-9a-f]+ (.*) \((.*)\)$/.exec(line);
    if (m && current) current.frames.push({ symbol: m[1]!, dso: m[2]! });
  }
}
if (current) samples.push(current);

const share = (n: number, of: number) => `${((100 * n) / of).toFixed(1).padStart(5)}%`;
function print(title: string, counts: Map<string, number>, of: number, top = 25) {
  console.log(`\n${title}`);
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${share(n, of)}  ${k}`);
}
const count = (keys: string[]) => {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
};

console.log(`${file}: ${samples.length} samples`);
print('by thread (share of the process)', count(samples.map((s) => s.thread)), samples.length);

const main = samples.filter((s) => s.thread === 'MainThread');
const kernel = main.filter((s) => s.frames[0]?.dso.includes('kernel'));
console.log(`\nmain thread in the kernel: ${share(kernel.length, main.length)} of its samples`);

function owner(s: Sample): string {
  for (const { symbol } of s.frames) {
    if (!symbol.startsWith('JS:') || symbol.includes('/bench/cpu-probe.ts')) continue;
    const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(symbol);
    if (dep) return dep[1]!;
    const ours = /\/((?:src|providers|bench)\/[^/:]+)/.exec(symbol);
    if (ours) return ours[1]!;
  }
  return '(node runtime, no JavaScript of ours or a dependency on the stack)';
}
print('main thread by owner (share of the main thread)', count(main.map(owner)), main.length);

// V8's and libuv's threads by what they were doing: the first frame naming a V8 job or a system call
function activity(s: Sample): string {
  for (const { symbol } of s.frames) {
    if (symbol.startsWith('__x64_sys_')) return symbol;
    if (/Job|Task/.test(symbol) && /^v8::internal::/.test(symbol)) return symbol.replace(/\(.*$/, '');
  }
  return s.frames[0]?.symbol ?? '?';
}
for (const thread of new Set(samples.map((s) => s.thread))) {
  if (thread === 'MainThread') continue;
  const of = samples.filter((s) => s.thread === thread);
  print(`${thread} by activity (share of that thread kind)`, count(of.map(activity)), of.length, 8);
}
