// `vpm-gateway start [--config FILE]`: checks the configuration as `config check` does, then runs the
// gateway until SIGINT or SIGTERM, then shuts down gracefully: listeners stop accepting, requests in
// flight finish (at most server.shutdown_timeout seconds), adapters close, the audit log is flushed and
// checkpointed, the store closed; exit 0.
import { AuditUnavailableError } from '../audit/events.ts';
import { createGateway } from '../gateway.ts';
import { createLogger } from '../logger.ts';
import { listen, listenMtls, PortInUseError } from '../tls/listeners.ts';
import { SecurityCheckError } from '../tls/security-checks.ts';
import { prepareDemoMaterial } from '../web/demo-peers.ts';
import { listenMetrics } from '../ops/metered.ts';
import { drain } from '../ops/shutdown.ts';
import { command, emit, EXIT_FAILED } from './command.ts';
import { checkGatewayConfig, configPath, loadGatewayConfig, reportProblems } from './gateway-config.ts';

/** The exit code of a command that keeps running (the process exits when the gateway is stopped). */
export const KEEPS_RUNNING = -1;

export const runStart = command({
  name: 'start',
  synopsis: '[options]',
  summary:
    'Runs the gateway. Configuration: --config FILE, else $VPM_CONFIG, else config/demo.yaml; PORT and\n' +
    'ISSUER override the file. Refuses (exit 1) what "config check" refuses, before writing anything.\n' +
    'Logs are JSON lines on stderr; with --json the start-up notice on stdout is JSON too.',
  options: {},
  maxPositionals: 0,
  async run({ values, io, json }) {
    const path = configPath(values.config);
    // the same checks as `config check`, before any key, directory or demo material is created
    if (!reportProblems(path, await checkGatewayConfig(path), io, 'refusing to start:')) return EXIT_FAILED;
    await prepareDemoMaterial(path);
    const config = loadGatewayConfig(path, io);
    if (!config) return EXIT_FAILED;
    const logger = createLogger(config.log_level);
    let gateway: Awaited<ReturnType<typeof createGateway>>;
    try {
      // refuses insecure configuration (the VPM security levels) and an unwritable audit log
      gateway = await createGateway(config, { logger });
    } catch (err) {
      if (!(err instanceof SecurityCheckError || err instanceof AuditUnavailableError)) throw err;
      io.stderr(`${path}: ${err.message}\n`);
      return EXIT_FAILED;
    }
    // HTTPS (optionally requesting client certificates) when server.tls is configured
    // loopback unless server.host says otherwise when the demo runs; else every interface
    const host = config.server?.host ?? (config.demo.enabled ? '127.0.0.1' : undefined);
    let server: Awaited<ReturnType<typeof listen>>;
    try {
      server = await listen(gateway.app, config.server, config.port, host);
    } catch (err) {
      if (!(err instanceof PortInUseError)) throw err;
      io.stderr(`vpm-gateway: ${err.message}\n`);
      await gateway.close();
      return EXIT_FAILED;
    }
    gateway.warmUp();
    // RFC 8705 endpoint aliases on their own listener (server.mtls.port), so login pages never ask for a certificate
    const mtlsServer = await listenMtls(gateway.app, config.server, host);
    const metricsServer =
      gateway.metrics && config.metrics ? await listenMetrics(gateway.metrics, config.metrics) : undefined;
    const metricsAddress = metricsServer?.address();
    const metricsPort = typeof metricsAddress === 'object' && metricsAddress ? metricsAddress.port : undefined;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const mtlsPort = mtlsServer ? config.server?.mtls?.port : undefined;
    const providers = [...gateway.adapters.keys()];
    logger.info('gateway started', {
      issuer: config.issuer,
      host: host ?? 'every interface',
      port,
      mtls_port: mtlsPort,
      metrics_port: metricsPort,
      providers,
      config: path,
    });
    const demo = config.demo.enabled ? `${config.issuer.replace(/\/$/, '')}/` : undefined;
    emit(
      { io, json },
      {
        port,
        mtls_port: mtlsPort ?? null,
        metrics_port: metricsPort ?? null,
        issuer: config.issuer,
        demo: demo ?? null,
        providers,
        config: path,
      },
      `vpm-gateway listening on port ${port} (${host ?? 'every interface'})\n` +
        (mtlsPort ? `mutual-TLS endpoints on port ${mtlsPort}\n` : '') +
        (metricsPort !== undefined
          ? `metrics on ${config.metrics!.host}:${metricsPort}${config.metrics!.path}\n`
          : '') +
        (demo ? `Open the demo e-service: ${demo}\n` : `Issuer: ${config.issuer}\n`),
    );
    const timeoutMs = (config.server?.shutdown_timeout ?? 10) * 1000;
    let stopping = false;
    const stop = async (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      gateway.beginShutdown();
      logger.info('shutting down', { signal, timeout_ms: timeoutMs });
      const inTime = await drain(mtlsServer ? [server, mtlsServer] : [server], timeoutMs);
      if (!inTime) logger.warn('shutdown timeout: requests still in flight were cut', { timeout_ms: timeoutMs });
      try {
        // adapters, then the audit log (flushed and checkpointed), then the store
        await gateway.close();
      } catch (err) {
        logger.error('shutdown failed', { error: (err as Error).name, message: (err as Error).message });
        process.exit(EXIT_FAILED);
      }
      await drain(metricsServer ? [metricsServer] : [], 1000);
      logger.info('gateway stopped', { signal });
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return KEEPS_RUNNING;
  },
});
