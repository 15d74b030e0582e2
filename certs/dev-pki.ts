// Creates the development PKI in certs/dev (git-ignored): same as `vpm-gateway certs dev`.
//   node certs/dev-pki.ts [--dir certs/dev]
import { runCerts } from '../src/cli/certs.ts';

const code = await runCerts(['dev', ...process.argv.slice(2)], {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
process.exitCode = code;
