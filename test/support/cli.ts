// The command line as an operator runs it, with its output captured instead of written.
import { main } from '../../src/cli/main.ts';

export interface CapturedIo {
  out: { stdout: string; stderr: string };
  io: { stdout(s: string): void; stderr(s: string): void };
}

/** Output streams that collect what is written to them. */
export function captureIo(): CapturedIo {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: (s) => {
        out.stdout += s;
      },
      stderr: (s) => {
        out.stderr += s;
      },
    },
  };
}

/** `vpm-gateway <argv...>`: its exit code and everything it wrote. */
export async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { out, io } = captureIo();
  const code = await main(argv, io);
  return { code, ...out };
}
