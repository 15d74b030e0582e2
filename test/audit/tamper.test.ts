// Tamper evidence: any edited, deleted or inserted byte in any entry or checkpoint, and any removed,
// reordered or inserted line, or a segment replaced by something that is not one, makes verification fail
// and name the position (./tampered-log.ts). A torn tail, foreign signatures and escaped output:
// ./tamper-tail-and-signatures.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINTS_FILE, decodeEntryLine, encodeEntryLine } from '../../src/audit/format.ts';
import { scanLog } from '../../src/audit/scan.ts';
import { cli, copyDir, testLog } from './helpers.ts';
import { written, useTamperedLog, lineStarts, firstProblem, problemAfter } from './tampered-log.ts';

useTamperedLog();

const edit = (o: number) => (b: Buffer) => {
  b[o] = b[o]! ^ 0x01;
  return b;
};
const remove = (o: number) => (b: Buffer) => Buffer.concat([b.subarray(0, o), b.subarray(o + 1)]);
const insert =
  (o: number, byte = 0x20) =>
  (b: Buffer) =>
    Buffer.concat([b.subarray(0, o), Buffer.from([byte]), b.subarray(o)]);

test('the untouched log verifies, across several segments and checkpoints', async () => {
  expect(written.segments.length).toBeGreaterThanOrEqual(3);
  const scan = await scanLog(written.t.dir, { key: written.key, signatures: 'all' });
  expect(scan.problems).toEqual([]);
  expect(scan.entries).toBe(35);
  expect(scan.checkpoints.length).toBeGreaterThanOrEqual(7);
  const { code, stdout } = await cli('verify', written.t.dir, '--public-key', written.t.publicKey);
  expect(code).toBe(0);
  expect(stdout).toContain('OK: every entry, the tree, every checkpoint signature and the timestamps verify');
});

describe('every byte of an entry', () => {
  // first entry of the log, an entry at the end of a middle segment, and the very last entry
  const cases = () => [
    { file: written.segments[0]!, line: 1 },
    { file: written.segments[1]!, line: lineStarts(readFileSync(join(written.t.dir, written.segments[1]!))).length },
    {
      file: written.segments.at(-1)!,
      line: lineStarts(readFileSync(join(written.t.dir, written.segments.at(-1)!))).length,
    },
  ];

  test('edited, deleted or inserted at any offset: verify names that entry', async () => {
    const dir = copyDir(written.t.dir);
    let checked = 0;
    for (const { file, line } of cases()) {
      const buf = readFileSync(join(dir, file));
      const starts = lineStarts(buf);
      const start = starts[line - 1]!;
      const end = line < starts.length ? starts[line]! : buf.length; // includes the newline
      for (let o = start; o < end; o++) {
        const mutations: [(b: Buffer) => Buffer, number][] = [
          [edit(o), line],
          [remove(o), line],
          [insert(o), line],
        ];
        // a newline inserted just before the entry's own newline is an empty line after it
        if (o % 5 === 0 || o === end - 1) mutations.push([insert(o, 0x0a), o === end - 1 ? line + 1 : line]);
        for (const [mutate, expected] of mutations) {
          const p = await problemAfter(dir, file, mutate);
          if (!p || p.position.file !== file || p.position.line !== expected) {
            throw new Error(`mutation at ${file} byte ${o} (line ${line}) reported as ${JSON.stringify(p)}`);
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(2500);
    rmSync(dir, { recursive: true });
  }, 120_000); // thousands of verifications: generous on a loaded machine
});

describe('every byte of a checkpoint', () => {
  test('edited, deleted or inserted at any offset of the last checkpoint: verify names it', async () => {
    const dir = copyDir(written.t.dir);
    const buf = readFileSync(join(dir, CHECKPOINTS_FILE));
    const starts = lineStarts(buf);
    for (const line of [starts.length]) {
      const start = starts[line - 1]!;
      const end = line < starts.length ? starts[line]! : buf.length;
      for (let o = start; o < end; o++) {
        for (const mutate of [edit(o), remove(o), insert(o)]) {
          const p = await problemAfter(dir, CHECKPOINTS_FILE, mutate);
          if (!p || p.position.file !== CHECKPOINTS_FILE || p.position.line !== line) {
            throw new Error(`mutation at checkpoint byte ${o} (line ${line}) reported as ${JSON.stringify(p)}`);
          }
        }
      }
    }
    rmSync(dir, { recursive: true });
  }, 120_000);

  test('edits of every field of every other checkpoint are named too', async () => {
    const dir = copyDir(written.t.dir);
    const buf = readFileSync(join(dir, CHECKPOINTS_FILE));
    const starts = lineStarts(buf);
    for (let line = 1; line <= starts.length; line++) {
      const text = buf.toString('latin1', starts[line - 1], line < starts.length ? starts[line] : buf.length);
      // inside n, size, root, time, the protected header, the signature, and the closing brace
      for (const at of ['"n":', '"size":', '"root":"', '"time":"', '"sig":"', '..']) {
        const p = await problemAfter(dir, CHECKPOINTS_FILE, edit(starts[line - 1]! + text.indexOf(at) + at.length));
        expect(p?.position).toMatchObject({ file: CHECKPOINTS_FILE, line });
      }
      const p = await problemAfter(dir, CHECKPOINTS_FILE, edit(starts[line - 1]! + text.length - 3));
      expect(p?.position).toMatchObject({ file: CHECKPOINTS_FILE, line });
    }
  });
});

describe('whole lines', () => {
  const linesOf = (b: Buffer) => b.toString('utf8').split(/(?<=\n)/);
  const join_ = (l: string[]) => Buffer.from(l.join(''));

  /** `file` with its line `n` (from 0) rewritten by `change` and its leaf hash made again: what anyone who can
   * write the file can do without a key */
  const rehashed = (n: number, change: (body: string) => string) => (b: Buffer) => {
    const l = linesOf(b);
    const body = decodeEntryLine(Buffer.from(l[n]!.trimEnd())).body.toString('utf8');
    const changed = change(body);
    expect(changed).not.toBe(body);
    l[n] = encodeEntryLine(changed).line;
    return join_(l);
  };

  test('an entry under a checkpoint rewritten and hashed again: the checkpoint whose root covers it says so', async () => {
    const redirected = rehashed(0, (body) =>
      body.replace('https://rp.example.test/cb', 'https://evil.example.test/cb'),
    );
    const p = await problemAfter(written.t.dir, written.segments[0]!, redirected);
    expect(p).toMatchObject({ kind: 'checkpoint', position: { file: CHECKPOINTS_FILE } });
    expect(p!.message).toMatch(/^root does not match entries 0\.\.4/);
  });

  test('an entry whose time was moved before the previous one (hashed again) is named', async () => {
    const earlier = rehashed(1, (body) => body.replace(/"t":"[^"]+"/, '"t":"2000-01-01T00:00:00.000Z"'));
    const p = await problemAfter(written.t.dir, written.segments[0]!, earlier);
    expect(p).toMatchObject({ kind: 'entry', position: { file: written.segments[0], line: 2 } });
    expect(p!.message).toMatch(/^time 2000-01-01T00:00:00.000Z is earlier than the previous entry's/);
  });

  test('a removed entry is named by the line where the sequence breaks', async () => {
    const p = await problemAfter(written.t.dir, written.segments[1]!, (b) =>
      join_(linesOf(b).filter((_, i) => i !== 2)),
    );
    expect(p).toMatchObject({ kind: 'entry', position: { file: written.segments[1], line: 3 } });
    expect(p!.message).toMatch(/removed, inserted or reordered/);
  });

  test('reordered entries are named', async () => {
    const p = await problemAfter(written.t.dir, written.segments[0]!, (b) => {
      const l = linesOf(b);
      [l[3], l[4]] = [l[4]!, l[3]!];
      return join_(l);
    });
    expect(p).toMatchObject({ kind: 'entry', position: { file: written.segments[0], line: 4 } });
  });

  test('an inserted (copied) entry is named', async () => {
    const p = await problemAfter(written.t.dir, written.segments[0]!, (b) => {
      const l = linesOf(b);
      l.splice(2, 0, l[1]!);
      return join_(l);
    });
    expect(p).toMatchObject({ kind: 'entry', position: { file: written.segments[0], line: 3 } });
  });

  test('an empty line inserted between entries is named', async () => {
    const p = await problemAfter(written.t.dir, written.segments[0]!, (b) => {
      const l = linesOf(b);
      l.splice(2, 0, '\n');
      return join_(l);
    });
    expect(p).toMatchObject({ kind: 'entry', position: { file: written.segments[0], line: 3 } });
  });

  test('the last entries removed: the checkpoint that covered them says so', async () => {
    const p = await problemAfter(written.t.dir, written.segments.at(-1)!, (b) => join_(linesOf(b).slice(0, -1)));
    expect(p).toMatchObject({ kind: 'checkpoint', position: { file: CHECKPOINTS_FILE } });
    expect(p!.message).toMatch(/covers 35 entries but the log holds 34/);
  });

  test('a removed segment is named', async () => {
    const dir = copyDir(written.t.dir);
    rmSync(join(dir, written.segments[1]!));
    const p = await firstProblem(dir);
    expect(p).toMatchObject({ kind: 'segment', position: { file: written.segments[2], line: 1 } });
  });

  // what the disk's writer can put in a segment's place: a FIFO (opening it would wait for a writer for
  // ever), a directory, a device, and a size no segment has (sparse: no disk space needed)
  test.each([
    ['a FIFO', (path: string) => execFileSync('mkfifo', [path]), 'is not a regular file'],
    ['a directory', (path: string) => mkdirSync(path), 'is not a regular file'],
    ['a link to /dev/zero', (path: string) => symlinkSync('/dev/zero', path), 'is not a regular file'],
    ['a 2 GiB + 1 sparse file', (path: string) => truncateSync(path, 2 ** 31 + 1), 'more than any segment'],
  ])('%s in place of a segment: verify and start name it (exit 1), never hang', async (_, make, message) => {
    const dir = copyDir(written.t.dir);
    const path = join(dir, written.segments[1]!);
    rmSync(path);
    if (message === 'more than any segment') writeFileSync(path, '');
    make(path);
    const p = await firstProblem(dir);
    expect(p).toMatchObject({ kind: 'segment', position: { file: written.segments[1], line: 1 } });
    expect(p!.message).toBe(
      `${path} ${message === 'is not a regular file' ? message : `holds ${2 ** 31 + 1} bytes, ${message} the gateway writes`}`,
    );
    const verify = await cli('verify', dir, '--public-key', written.t.publicKey);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(
      `FAILED: first bad position: entry ${Number(/\d{12}/.exec(written.segments[1]!)![0])} (${written.segments[1]} line 1, byte 0): ${path} `,
    );
    await expect(testLog({ ...written.t.config, dir }).open()).rejects.toThrow(`${path} `);
  });

  test('a removed checkpoint leaves a gap in the numbers', async () => {
    const p = await problemAfter(written.t.dir, CHECKPOINTS_FILE, (b) => join_(linesOf(b).filter((_, i) => i !== 2)));
    expect(p).toMatchObject({ kind: 'checkpoint', position: { file: CHECKPOINTS_FILE, line: 3 } });
  });

  test('reordered checkpoints are named', async () => {
    const p = await problemAfter(written.t.dir, CHECKPOINTS_FILE, (b) => {
      const l = linesOf(b);
      [l[1], l[2]] = [l[2]!, l[1]!];
      return join_(l);
    });
    expect(p).toMatchObject({ kind: 'checkpoint', position: { file: CHECKPOINTS_FILE, line: 2 } });
  });
});
