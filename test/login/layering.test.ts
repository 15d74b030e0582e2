// The layering README.md states ("Imports point one way"): src/oidc never imports src/web, src/login
// imports neither src/web nor src/oidc, and only the registry names the adapter kinds in providers/.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?from '([^']+)'/gms)].map((m) => m[1]!);

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

test.each([
  ['src/oidc', /^\.\.\/web\//],
  ['src/login', /^\.\.\/(?:web|oidc)\//],
])('%s imports nothing of the layers above it', (dir, above) => {
  const offending = sources(dir).flatMap((file) =>
    importsOf(file)
      .filter((from) => above.test(from))
      .map((from) => `${file}: ${from}`),
  );
  expect(offending).toEqual([]);
});

test('only src/registry names the adapter kinds (providers/)', () => {
  const naming = sources('src').filter((file) => importsOf(file).some((from) => from.includes('providers/')));
  expect(naming).toEqual(['src/registry/adapters.ts']);
});
