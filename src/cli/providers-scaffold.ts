// `providers scaffold --kind custom NAME [--dir DIR]`: a new adapter kind's folder (factory and schema,
// adapter, test peer, conformance test), ready to run where it is written, inside the repository or not.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { customProviderFiles } from '../onboarding/scaffold/custom.ts';
import { command, emit, EXIT_OK, UsageError } from './command.ts';

const GATEWAY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const scaffold = command({
  name: 'providers scaffold',
  synopsis: '--kind custom NAME [--dir DIR] [options]',
  summary:
    'Writes a new adapter kind NAME: config schema and factory (index.ts), adapter, protocol, test peer and\n' +
    'a test running the adapter conformance suite. The kinds oidc, saml and banklink exist already\n' +
    '(providers/<kind>): a provider of those needs only its entry. See docs/adapters.md.',
  help: [
    ['--kind custom', 'a new protocol (the only kind written)'],
    ['--dir DIR', 'where (default providers/NAME); must not exist or be empty'],
  ],
  config: 'not used',
  options: { kind: { type: 'string' }, dir: { type: 'string' } },
  maxPositionals: 1,
  async run({ values, positionals, io, json }) {
    const [name] = positionals;
    if (!name || !/^[a-z][a-z0-9-]{0,29}$/.test(name))
      throw new UsageError('NAME must be 1-30 lower-case letters, digits or hyphens, starting with a letter');
    if (values.kind === 'oidc' || values.kind === 'saml' || values.kind === 'banklink')
      throw new UsageError(
        `--kind ${values.kind} exists already in providers/${values.kind}: add a provider entry instead`,
      );
    if (values.kind !== 'custom') throw new UsageError('--kind custom is required');
    const dir = resolve(values.dir ?? join('providers', name));
    if (existsSync(dir) && readdirSync(dir).length) throw new UsageError(`${dir} exists and is not empty`);
    mkdirSync(dir, { recursive: true });
    const files = customProviderFiles(name, GATEWAY_DIR);
    // outside the repository the folder is a package of its own: ES modules, like the gateway
    if (relative(GATEWAY_DIR, dir).startsWith('..'))
      files['package.json'] = `${JSON.stringify({ name, private: true, type: 'module' }, null, 2)}\n`;
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    emit(
      { io, json },
      { dir, files: Object.keys(files) },
      `${name}: written to ${dir}\n${Object.keys(files)
        .map((f) => `  ${f}\n`)
        .join('')}`,
    );
    return EXIT_OK;
  },
});
