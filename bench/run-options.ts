// The command line of `npm run bench` (bench/run.ts).
import { benchOptions } from './args.ts';

const OPTIONS = {
  rounds: { type: 'string', default: '3' },
  seconds: { type: 'string', default: '8' },
  warmup: { type: 'string', default: '2' },
  users: { type: 'string', default: '1,16' },
  workers: { type: 'string' },
  only: { type: 'string' },
  keep: { type: 'boolean', default: false },
  baseline: { type: 'string' },
  steps: { type: 'boolean', default: false },
  'cpu-prof': { type: 'string' },
  'node-options': { type: 'string' },
} as const;

const USAGE = `usage: node bench/run.ts [--rounds 3] [--seconds 8] [--warmup 2] [--users 1,16] [--workers N] [--keep]
  --only TEXT            only the floor and the gateway targets naming TEXT
  --steps                CPU ms of each HTTP request by step (gateway and floor), best with --users 1
  --baseline CHECKOUT    another checkout (a git archive of an earlier commit, with node_modules): its
                         gateway, Redis and test bank measured alongside as "baseline"
  --cpu-prof DIR         a V8 CPU profile of each gateway process (summed by bench/profile.ts)
  --node-options='FLAGS' more node options for the gateways under test, not the baseline, written with '='
                         as they begin with a dash: '--perf-basic-prof' for perf record -g -p PID, or
                         '--trace-gc-nvp' (their logs stay with --keep)
`;

/** The command line, or the usage and an exit: 0 for --help, 2 for a bad option. */
export function benchArgs() {
  const { values } = benchOptions(OPTIONS, USAGE);
  return {
    ...values,
    rounds: Number(values.rounds),
    seconds: Number(values.seconds),
    warmup: Number(values.warmup),
    userCounts: values.users.split(',').map(Number),
    workers: values.workers ? Number(values.workers) : undefined,
  };
}
