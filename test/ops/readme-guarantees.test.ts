// README "Security notes" names, for each guarantee, the test that attacks it: a file, and often the names
// of its tests (`path` › "name", with … where the name goes on). Test files are split and tests renamed;
// a guarantee whose proof no longer exists at the named place is a promise nobody checks.
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const notes = readme.slice(
  readme.indexOf('\n## Security notes'),
  readme.indexOf('\n## ', readme.indexOf('\n## Security notes') + 1),
);

interface Citation {
  guarantee: string;
  path: string;
  names: string[];
}

/** Every `path` › "name", "name" of the second column of the notes' tables. */
function citations(): Citation[] {
  const found: Citation[] = [];
  for (const row of notes.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| guarantee'))) {
    const [guarantee = '', proof = ''] = row
      .replace(/^\| | \|$/g, '')
      .split(' | ')
      .map((c) => c.trim());
    // a reference is a backticked path to a test file or test support module, then what is quoted after ›
    for (const ref of proof.split(/(?=`(?:test|providers|src)\/)/)) {
      const path = /^`((?:test|providers|src)\/[^`]+\.ts)`/.exec(ref)?.[1];
      if (!path) continue;
      const after = ref.indexOf('›');
      const names = after < 0 ? [] : [...ref.slice(after).matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
      found.push({ guarantee: guarantee.slice(0, 60), path, names });
    }
  }
  return found;
}

/** The pieces of a cited name between its ellipses, as they must appear in the file's test names. */
const pieces = (name: string) =>
  name
    .split('…')
    .map((p) => p.trim().replace(/^[,:;]\s*/, ''))
    .filter((p) => p.length > 0);

/** Test names with placeholders (test.each's %s, a template's ${...}): literal characters and wildcards. */
function templates(text: string): string[][] {
  const literals = text.match(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g) ?? [];
  return literals
    .map((l) => l.slice(1, -1))
    .filter((l) => /%[sdipoj#]|\$\{/.test(l))
    .map((l) => l.split(/(%[sdipoj#]|\$\{[^}]*\})/).flatMap((part, i) => (i % 2 ? [WILDCARD] : [...part])));
}

const WILDCARD = '\u0000';

/** Whether `piece` is a stretch of some name the template makes. It begins and ends in the template's own
 * words (a placeholder's value alone names no test), and a value is a few words without a colon. */
function withinTemplate(piece: string, tokens: string[]): boolean {
  for (let start = 0; start < tokens.length; start++) {
    if (tokens[start] === WILDCARD) continue;
    // tokens[start..] as a regular expression any prefix of which may match
    const prefixes = tokens.slice(start).reduceRight((inner, t) => {
      if (t === WILDCARD) return `[^:;"]{1,40}(?:${inner})?`;
      return `${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:${inner})?`;
    }, '');
    if (new RegExp(`^(?:${prefixes})$`).test(piece)) return true;
  }
  return false;
}

const cited = citations();

test('the notes cite test files, most of them by test name', () => {
  expect(cited.length).toBeGreaterThan(60);
  expect(cited.filter((c) => c.names.length > 0).length).toBeGreaterThan(30);
});

test.each(cited.map((c) => [c.path, c] as const))('%s exists and holds the tests the notes name', (_path, c) => {
  const file = new URL(c.path, root);
  expect(existsSync(file)).toBe(true);
  const text = readFileSync(file, 'utf8');
  const named = templates(text);
  const missing = c.names.flatMap(pieces).filter((p) => !text.includes(p) && !named.some((t) => withinTemplate(p, t)));
  expect({ guarantee: c.guarantee, missing }).toEqual({ guarantee: c.guarantee, missing: [] });
});

test('a name cited from a parameterised test matches its instances only', () => {
  const [each] = templates(`test.each([])('bank misbehaviour %s: the user sees "could not be verified"', () => {})`);
  expect(withinTemplate('bank misbehaviour early_time: the user sees', each!)).toBe(true);
  expect(withinTemplate('misbehaviour early_time: the user', each!)).toBe(true);
  expect(withinTemplate('bank misbehaviour early_time: the bank sees', each!)).toBe(false);
});
