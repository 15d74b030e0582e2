// `vpm-gateway audit <command>`: operator commands on the audit log (src/audit/README.md). Each prints
// for a person, or one JSON document with --json. Exit 0 verified or done, 1 verification failed or
// proof refused, 2 bad usage or configuration.
import { group } from './command.ts';

export const runAudit = group({
  name: 'audit',
  help: [
    [
      'verify [DIR...]',
      'check every entry, the Merkle tree, every checkpoint signature\nand the times; prints the first bad position',
    ],
    [
      'query [DIR...] [filters]',
      'list the entries matching --from, --to, --client, --provider,\n--event, --correlation, --personal-code',
    ],
    ['prove [DIR...] --index I', 'inclusion proof of entry I against the latest checkpoint'],
    ['verify-proof FILE', 'check an inclusion or consistency proof document'],
    [
      'consistency [DIR...] --first A',
      'prove that the log at checkpoint B (--second, default the\nlatest) extends the log at checkpoint A (tree sizes)',
    ],
    ['repair --config FILE', 'move a torn tail aside and record that in the log'],
    ['witness --config FILE', 'compare the log with its witnesses; --reset rewrites them'],
  ],
  commands: {
    verify: async () => (await import('./audit/verify.ts')).verifyCommand,
    query: async () => (await import('./audit/query.ts')).queryCommand,
    prove: async () => (await import('./audit/prove.ts')).proveCommand,
    'verify-proof': async () => (await import('./audit/verify-proof.ts')).verifyProofCommand,
    consistency: async () => (await import('./audit/prove.ts')).consistencyCommand,
    repair: async () => (await import('./audit/repair.ts')).repairCommand,
    witness: async () => (await import('./audit/witness.ts')).witnessCommand,
  },
});
