// examples/python-authlib (Flask + Debian's Authlib 1.2.0) against the demo gateway over HTTPS: the
// example runs as its own process under Debian's python3, trusting the development CA (REQUESTS_CA_BUNDLE); a
// person logs in with the mock eID and with the test bank, logs out, and cancels once.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root, startProcess } from './support.ts';
import { exampleServiceRun } from './service-run.ts';
import { serviceTests } from './service-tests.ts';

// Debian's interpreter, with python3-authlib, python3-flask and python3-requests (not a virtualenv's)
const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import authlib, flask, requests'], { encoding: 'utf8' });
const available = probe.status === 0;
const describeIfPython = available ? describe : describe.skip;
if (!available)
  console.warn(
    `skipping examples/python-authlib: ${PYTHON} cannot import authlib, flask and requests (apt-get install python3-authlib python3-flask python3-requests): ${probe.error?.message ?? probe.stderr}`,
  );

const CLIENT_ID = 'example-python-authlib';

describeIfPython('examples/python-authlib (Flask + Authlib)', () => {
  const run = exampleServiceRun((gateway) => {
    const rpBase = `http://127.0.0.1:${gateway.ports.python}`;
    const child = startProcess(PYTHON, [join(root, 'examples/python-authlib/app.py')], {
      cwd: root,
      env: {
        PORT: String(gateway.ports.python),
        ISSUER: gateway.issuer,
        CLIENT_ID,
        CLIENT_SECRET: 'example-python-authlib-secret-not-for-production',
        BASE_URL: rpBase,
        REQUESTS_CA_BUNDLE: gateway.caFile,
        SECRET_KEY: 'example-flask-secret-key-for-the-test-only',
        PYTHONUNBUFFERED: '1',
      },
      ready: `Running on ${rpBase}`,
      what: 'examples/python-authlib',
    });
    return { rpBase, child };
  });

  serviceTests(() => ({ rpBase: run.rpBase, issuer: run.gateway.issuer, clientId: CLIENT_ID }));
});
