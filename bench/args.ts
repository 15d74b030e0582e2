// The command line of a bench script: its options parsed, or its usage printed and an exit (0 for --help,
// 2 with the reason for an unknown option or a missing value), never a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export function benchOptions<const O extends Options>(options: O, usage: string, allowPositionals = false) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ options, allowPositionals, args });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
}
