// `providers scaffold --kind custom NAME [--dir DIR]`: a new adapter kind's folder (factory and schema,
// adapter, test peer, conformance test), ready to run where it is written, inside the repository or not.
// `--kind KIND NAME` for a kind whose factory offers an entry kit (oidc, saml, banklink): a new provider of
// that kind: its entry, its joining record at stage application and its conformance test against the kind's
// test peer.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { customProviderFiles } from '../onboarding/scaffold/custom.ts';
import { kitFiles, kitKinds } from '../onboarding/scaffold/kit.ts';
import { command, emit, EXIT_OK, UsageError } from './command.ts';

const GATEWAY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const KITS = kitKinds();

export const scaffold = command({
  name: 'providers scaffold',
  synopsis: `--kind custom|${KITS.join('|')} NAME [--dir DIR] [options]`,
  summary:
    'custom: writes a new adapter kind NAME: config schema and factory (index.ts), adapter, protocol, test\n' +
    `peer and a test running the adapter conformance suite. ${KITS.join(', ')}: a new provider NAME of\n` +
    'that kind: NAME.provider.yaml (its providers[] entry, commented), registry/NAME.yaml (its joining\n' +
    "record at stage application) and NAME.test.ts (the conformance suite against the kind's test peer with\n" +
    'its settings). See docs/adapters.md.',
  help: [
    ['--kind KIND', `custom (a new protocol), or ${KITS.join(', ')} (a new provider of that kind)`],
    ['--dir DIR', 'where (default providers/NAME for custom, NAME otherwise); must not exist or be empty'],
    ['--by NAME', "who records the application (default: the system user's name)"],
  ],
  config: 'not used',
  options: { kind: { type: 'string' }, dir: { type: 'string' }, by: { type: 'string' } },
  maxPositionals: 1,
  async run({ values, positionals, io, json }) {
    const [name] = positionals;
    if (!name || !/^[a-z][a-z0-9-]{0,29}$/.test(name))
      throw new UsageError('NAME must be 1-30 lower-case letters, digits or hyphens, starting with a letter');
    const kit = KITS.includes(values.kind ?? '');
    if (values.kind !== 'custom' && !kit)
      throw new UsageError(
        `--kind must be ${new Intl.ListFormat('en-GB', { type: 'disjunction' }).format(['custom', ...KITS])}`,
      );
    const dir = resolve(values.dir ?? (kit ? name : join('providers', name)));
    if (existsSync(dir) && readdirSync(dir).length) throw new UsageError(`${dir} exists and is not empty`);
    mkdirSync(join(dir, kit ? 'registry' : ''), { recursive: true });
    const by = values.by ?? process.env.USER ?? 'operator';
    const files = kit ? kitFiles(name, values.kind!, by, GATEWAY_DIR) : customProviderFiles(name, GATEWAY_DIR);
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
