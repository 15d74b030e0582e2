// The `vpm-gateway` program: start | config check | keys <command> | certs dev | audit <command> |
// providers <command>.
// Conventions shared by every command: src/cli/command.ts.
import { group, type Io, type Runner, stdio } from './command.ts';

export type { Io } from './command.ts';

const program: Runner = group({
  name: '',
  help: [
    ['start', 'run the gateway'],
    ['config check [FILE]', 'validate a configuration file; exit 1 when start would refuse it'],
    ['keys <command>', 'create, rotate, revoke and show the token and cookie keys (init, rotate, revoke, status)'],
    ['certs dev [--dir DIR]', 'create the development PKI (CA, server and client certificates)'],
    ['audit <command>', 'verify, query and prove the audit log; repair a torn tail; check the witnesses'],
    ['providers <command>', 'the VPM joining process: list, show, check and move providers through it'],
  ],
  commands: {
    start: async () => (await import('./start.ts')).runStart,
    config: async () => (await import('./config-check.ts')).runConfig,
    keys: async () => (await import('./keys.ts')).runKeys,
    certs: async () => (await import('./certs.ts')).runCerts,
    audit: async () => (await import('./audit.ts')).runAudit,
    providers: async () => (await import('./providers.ts')).runProviders,
  },
});

/** Runs one command line; the exit code, or -1 while the gateway keeps running. */
export function main(argv: string[], io: Io = stdio): Promise<number> {
  return program(argv, io);
}

const invokedDirectly =
  import.meta.url === `file://${process.argv[1]}` ||
  process.argv[1]?.endsWith('vpm-gateway.js') ||
  process.argv[1]?.endsWith('vpm-gateway');

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(`vpm-gateway: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
