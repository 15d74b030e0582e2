// `vpm-gateway config check [FILE | --config FILE]`: exactly the checks `start` runs, writing nothing.
import { command, emit, EXIT_FAILED, EXIT_OK, group, UsageError } from './command.ts';
import { checkGatewayConfig, configPath, reportProblems } from './gateway-config.ts';

const check = command({
  name: 'config check',
  synopsis: '[FILE] [options]',
  summary:
    'Validates a configuration file with the checks "start" runs (schema, production rules, adapter rules,\n' +
    'key material) without writing, connecting or generating anything. Exit 1 when it would be refused.\n' +
    'FILE and --config FILE are the same; default: $VPM_CONFIG, else config/demo.yaml.',
  options: {},
  maxPositionals: 1,
  async run({ values, positionals, io, json }) {
    const [file] = positionals;
    if (file !== undefined && values.config !== undefined && file !== values.config)
      throw new UsageError(`two configuration files given: ${file} and --config ${values.config}`);
    const path = configPath(file ?? values.config);
    const result = await checkGatewayConfig(path);
    if (!json) for (const warning of result.warnings) io.stdout(`warning: ${warning}\n`);
    const ok = reportProblems(path, result, io, 'refused by the security checks');
    const clients = result.config?.clients.length ?? 0;
    const providers = result.config?.providers.length ?? 0;
    const { warnings, invalid, refused } = result;
    if (json) emit({ io, json }, { ok, path, clients, providers, warnings, invalid, refused }, '');
    else if (ok) io.stdout(`${path}: ok (${clients} clients, ${providers} providers)\n`);
    return ok ? EXIT_OK : EXIT_FAILED;
  },
});

export const runConfig = group({
  name: 'config',
  help: [['check [FILE]', 'validate a configuration file; exit 1 when start would refuse it']],
  commands: { check: async () => check },
});
