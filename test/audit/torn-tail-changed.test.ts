// A torn tail is moved aside as the scan verified it: the bytes from its offset to the end of the file. A file
// cut or grown between the scan and the repair is no longer the file verified, so the repair refuses it and
// leaves it as it is; cutting a file shorter than the tail's offset would even extend it with zeros.
import { appendFileSync, existsSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { scanLog } from '../../src/audit/scan.ts';
import { moveTornTailAside } from '../../src/audit/torn-tail.ts';
import { loginEvents, testLog } from './helpers.ts';

async function tornLog() {
  const t = testLog();
  const log = await t.open();
  for (const e of loginEvents(1)) await log.record(e);
  await log.close();
  const name = readdirSync(t.dir).find((n) => n.startsWith('segment-'))!;
  const path = join(t.dir, name);
  appendFileSync(path, '{"leaf":"abc');
  const [torn] = (await scanLog(t.dir)).torn;
  expect(torn).toMatchObject({ file: name, length: 12 });
  return { t, path, torn: torn! };
}

test.each([
  ['cut inside its last complete line', (path: string, offset: number) => truncateSync(path, offset - 5)],
  ['cut at the torn offset', (path: string, offset: number) => truncateSync(path, offset)],
  ['grown by more bytes', (path: string) => appendFileSync(path, 'def"}\n{"leaf":"')],
])('a file %s after its scan: the repair refuses, naming it, and leaves it unchanged', async (_, change) => {
  const { t, path, torn } = await tornLog();
  change(path, torn.offset);
  const before = readFileSync(path);
  expect(() => moveTornTailAside(t.dir, torn)).toThrow(`${torn.file} changed since it was verified`);
  expect(readFileSync(path)).toEqual(before);
  expect(existsSync(join(t.dir, 'torn'))).toBe(false);
});

test('the file as verified: its tail moved aside and cut off', async () => {
  const { t, path, torn } = await tornLog();
  const repaired = moveTornTailAside(t.dir, torn);
  expect(readFileSync(join(t.dir, repaired.movedTo), 'utf8')).toBe('{"leaf":"abc');
  expect(readFileSync(path).length).toBe(torn.offset);
});
