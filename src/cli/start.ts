// `vpm-gateway start [--config FILE] [--workers N]`: checks the configuration as `config check` does, then
// runs the gateway (src/ops/instance.ts) until SIGINT or SIGTERM and shuts down gracefully. With N > 1 a
// primary runs N workers sharing the port (src/ops/cluster.ts), each writing its own audit log.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { GatewayConfig } from '../config/load.ts';
import { LISTENING_MESSAGE, runPrimary } from '../ops/cluster.ts';
import { type Listening, runInstance } from '../ops/instance.ts';
import { workerAuditConfig } from '../ops/worker-audit.ts';
import { PortInUseError } from '../tls/listeners.ts';
import { prepareDemoMaterial } from '../web/demo-peers.ts';
import { command, emit, EXIT_FAILED, type Io, UsageError } from './command.ts';
import { checkGatewayConfig, configPath, loadGatewayConfig, reportProblems } from './gateway-config.ts';

/** The exit code of a command that keeps running (the process exits when the gateway is stopped). */
export const KEEPS_RUNNING = -1;

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** How many workers to run, or why not: `--workers`, else one per core on a shared store, else one. The demo's
 * test peers (src/web/demo-peers.ts) keep their logins in the memory of the process serving them, as the
 * in-memory store does: a bank's second page reaching another worker would find no login, so the demo runs
 * one unless told otherwise (a test of the workers themselves may log in through the stateless mock eID). */
export function workerCount(
  option: string | undefined,
  config: {
    store: Pick<GatewayConfig['store'], 'type'>;
    demo?: Pick<GatewayConfig['demo'], 'enabled'>;
    production?: boolean;
  },
  cores = availableParallelism(),
): { workers: number; note?: string } | { refused: string } {
  const peers = config.demo?.enabled === true && config.production !== true;
  const shared = config.store.type !== 'memory' && !peers;
  if (option === undefined)
    return shared
      ? { workers: cores }
      : {
          workers: 1,
          note:
            config.store.type === 'memory'
              ? 'one worker: the in-memory store lives in this process (store.type: redis runs one per core)'
              : 'one worker: the demo providers keep their logins in this process (demo.enabled)',
        };
  if (!/^[1-9]\d{0,2}$/.test(option)) throw new UsageError('--workers must be a whole number from 1 to 999');
  const workers = Number(option);
  if (workers > 1 && config.store.type === 'memory')
    return {
      refused: `store.type: memory cannot serve --workers ${workers}: a login's state must be seen by every worker; configure store.type: redis, or run --workers 1`,
    };
  return { workers };
}

function notice(io: Io, json: boolean, config: GatewayConfig, info: Listening, workers: number, note?: string) {
  const demo = config.demo.enabled ? `${config.issuer.replace(/\/$/, '')}/` : undefined;
  const where = info.host ?? 'every interface';
  emit(
    { io, json },
    {
      port: info.port,
      mtls_port: info.mtls_port ?? null,
      metrics_port: info.metrics_port ?? null,
      workers,
      issuer: config.issuer,
      demo: demo ?? null,
      providers: info.providers,
      config: config.path,
    },
    `vpm-gateway listening on port ${info.port} (${where})\n` +
      (workers > 1 ? `${workers} workers sharing the port\n` : note ? `${note}\n` : '') +
      (info.mtls_port ? `mutual-TLS endpoints on port ${info.mtls_port}\n` : '') +
      (info.metrics_port !== undefined
        ? `metrics on ${config.metrics!.host}:${info.metrics_port}${config.metrics!.path}\n`
        : '') +
      (demo ? `Open the demo e-service: ${demo}\n` : `Issuer: ${config.issuer}\n`),
  );
}

export const runStart = command({
  name: 'start',
  synopsis: '[options]',
  summary:
    'Runs the gateway. Configuration: --config FILE, else $VPM_CONFIG, else config/demo.yaml; PORT, ISSUER\n' +
    'and VPM_HOST (the bind address) override the file. Refuses (exit 1) what "config check" refuses, before writing anything.\n' +
    'Logs are JSON lines on stderr (pretty in a terminal); with --json the start-up notice on stdout is JSON too.',
  help: [
    [
      '-w, --workers N',
      'worker processes sharing the port (default: one per core with a Redis store, else 1);\n' +
        'each writes its own audit log in <audit.dir>/worker-<n>',
    ],
  ],
  options: { workers: { type: 'string', short: 'w' } },
  maxPositionals: 0,
  async run({ values, io, json }) {
    const path = configPath(values.config);
    // the same checks as `config check`, before any key, directory or demo material is created
    if (!reportProblems(path, await checkGatewayConfig(path), io, 'refusing to start:')) return EXIT_FAILED;
    await prepareDemoMaterial(path);
    const loaded = loadGatewayConfig(path, io);
    if (!loaded) return EXIT_FAILED;
    const exit = (code: number) => process.exit(code);
    const refused = (message: string) => io.stderr(`${message}\n`);

    if (cluster.isWorker) {
      const worker = Number(process.env.VPM_WORKER);
      const config = { ...loaded, audit: workerAuditConfig(loaded.audit, worker) };
      const listening = (info: Listening) => process.send!({ type: LISTENING_MESSAGE, info });
      // a worker that cannot start ends (its IPC channel would keep it alive): the primary decides what next
      try {
        if (!(await runInstance({ config, worker, listening, refused, exit }))) exit(EXIT_FAILED);
      } catch (err) {
        refused(`vpm-gateway: worker ${worker}: ${(err as Error).message}`);
        exit(EXIT_FAILED);
      }
      return KEEPS_RUNNING;
    }

    const count = workerCount(values.workers, loaded);
    if ('refused' in count) {
      refused(`${path}: ${count.refused}`);
      return EXIT_FAILED;
    }
    const { workers, note } = count;
    const listening = (info: Listening) => notice(io, json, loaded, info, workers, note);
    if (workers === 1) {
      try {
        return (await runInstance({ config: loaded, listening, refused, exit })) ? KEEPS_RUNNING : EXIT_FAILED;
      } catch (err) {
        // a port in use is one line naming the port and how to choose another, not a stack trace
        if (!(err instanceof PortInUseError)) throw err;
        refused(`vpm-gateway: ${err.message}`);
        return EXIT_FAILED;
      }
    }
    const args = ['start', '--config', path, '--workers', String(workers)];
    const ok = await runPrimary({ config: loaded, workers, exec: MAIN, args, listening, refused, exit });
    return ok ? KEEPS_RUNNING : EXIT_FAILED;
  },
});
