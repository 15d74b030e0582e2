// Where a gateway's CPU goes, from a V8 CPU profile (`npm run bench -- --cpu-prof DIR`), as shares of the
// busy (not idle) time, the heaviest first: self time per function and per area (our code by top folder,
// each dependency, node internals, GC), and per owner: an area with the time Node's internals and native
// code spent on its behalf (a socket write charged to the Redis client that asked for it, a signature to
// whoever signed), so that the cost of using a dependency shows as that dependency's.
// Usage: node bench/profile.ts FILE.cpuprofile [top=40]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile.ts FILE.cpuprofile [top=40]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
const self = new Map<number, number>();
for (const [i, id] of profile.samples.entries()) {
  if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const ours = /\/(src|providers|bench)\/([^/]+)/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

/** The nearest frame from `id` up that is our code or a dependency: who the time was spent for. */
function owner(id: number): string {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const { url, functionName } = byId.get(at)!.callFrame;
    // the bench's own counting wrappers around node:crypto and fsync (bench/cpu-probe.ts) are not an owner
    if (url && !url.startsWith('node:') && !url.endsWith('/bench/cpu-probe.ts')) return area(url, functionName);
  }
  const { functionName } = byId.get(id)!.callFrame;
  return functionName.startsWith('(') ? functionName : '(node runtime)';
}

const functions = new Map<string, number>();
const areas = new Map<string, number>();
const owners = new Map<string, number>();
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const where = url ? `${url.replace(/^.*\/(node_modules|src|providers)\//, '$1/')}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'} ${where}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
  const a = area(url, functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
  const o = owner(id);
  owners.set(o, (owners.get(o) ?? 0) + us);
}
const top = Number(topArg ?? 40);
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(
  `${file}: ${(total / 1000).toFixed(0)} ms busy\n\nby owner (self time, node internals charged to their caller):`,
);
for (const [o, us] of [...owners].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${pct(us)}  ${o}`);
console.log('\nby area (self time):');
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${pct(us)}  ${a}`);
console.log('\nby function (self time):');
for (const [f, us] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${pct(us)}  ${f}`);
