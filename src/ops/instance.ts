// One gateway process serving requests: `start` with one worker, or one worker of `start --workers N`.
// It listens, says where, and on SIGINT/SIGTERM shuts down gracefully: listeners stop accepting, requests
// in flight finish (at most server.shutdown_timeout seconds), adapters close, the audit records those requests
// still make are awaited, the audit log is flushed and checkpointed, the store closed; exit 0. A worker whose primary is gone ends at once (node:cluster):
// its entries are durable, and the next start takes its writer lock over and records that.
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { answerMetricsRequests } from './cluster-metrics.ts';
import { AuditUnavailableError } from '../audit/events.ts';
import type { GatewayConfig } from '../config/load.ts';
import { createGateway } from '../gateway.ts';
import { createLogger } from '../logger.ts';
import { isStoreUnavailable } from '../store/store.ts';
import { listen, listenMtls } from '../tls/listeners.ts';
import { SecurityCheckError } from '../tls/security-checks.ts';
import { listenMetrics } from './metered.ts';
import { drain } from './shutdown.ts';
import { answerUnreadableRequests } from '../web/unreadable-requests.ts';

/** What a started instance reports: printed by `start`, or sent by a worker to its primary. */
export interface Listening {
  port: number;
  host: string | undefined;
  mtls_port: number | undefined;
  metrics_port: number | undefined;
  providers: string[];
}

export interface InstanceOptions {
  config: GatewayConfig;
  /** the worker's number under `start --workers N`; its log lines carry it */
  worker?: number | undefined;
  /** called once every listener is up */
  listening(info: Listening): void;
  /** a refusal to start, for the operator (the config path and why) */
  refused(message: string): void;
  /** the process ends with this code once stopped */
  exit(code: number): void;
}

const portOf = (server: { address(): unknown } | undefined) => {
  const address = server?.address();
  return typeof address === 'object' && address ? (address as { port: number }).port : undefined;
};

/** Runs the gateway until a signal stops it; false when it refused to start (already reported). */
export async function runInstance(options: InstanceOptions): Promise<boolean> {
  const { config, worker } = options;
  const root = createLogger(config.log_level);
  const logger = worker === undefined ? root : root.child({ worker });
  let gateway: Awaited<ReturnType<typeof createGateway>>;
  try {
    // refuses insecure configuration (the VPM security levels), an unwritable or locked audit log, and a
    // store it cannot use (a refused certificate or password: the message says which)
    // one warning per gateway, not per worker: worker 1 (started again under its number) logs expiring
    // certificates; every worker keeps its own gauges, of which the primary's scrape takes the earliest
    gateway = await createGateway(config, { logger, gatewayWarnings: worker === undefined || worker === 1 });
  } catch (err) {
    if (isStoreUnavailable(err)) {
      options.refused(`${config.path}: store: ${(err as Error).message}`);
      return false;
    }
    if (!(err instanceof SecurityCheckError || err instanceof AuditUnavailableError)) throw err;
    options.refused(`${config.path}: ${err.message}`);
    return false;
  }
  // loopback unless server.host says otherwise when the demo runs; else every interface
  const host = config.server?.host ?? (config.demo.enabled ? '127.0.0.1' : undefined);
  let server: Awaited<ReturnType<typeof listen>>;
  let mtlsServer: Awaited<ReturnType<typeof listenMtls>>;
  let metricsServer: Awaited<ReturnType<typeof listenMetrics>> | undefined;
  const opened: Server[] = [];
  try {
    // HTTPS (optionally requesting client certificates) when server.tls is configured
    server = await listen(gateway.app, config.server, config.port, host);
    opened.push(server);
    answerUnreadableRequests(server, logger);
    // RFC 8705 endpoint aliases on their own listener (server.mtls.port), so login pages never ask for a certificate
    mtlsServer = await listenMtls(gateway.app, config.server, host);
    if (mtlsServer) {
      opened.push(mtlsServer);
      answerUnreadableRequests(mtlsServer, logger);
    }
    // a worker's metrics are scraped through its primary (node:cluster IPC), which serves metrics.port
    if (gateway.metrics && config.metrics && !cluster.isWorker) {
      metricsServer = await listenMetrics(gateway.metrics, config.metrics);
      opened.push(metricsServer);
    }
  } catch (err) {
    // a port in use: nothing is left listening (the process can end), and the audit log is checkpointed and
    // its lock released, before the error is reported
    await drain(opened, 1000);
    await gateway.close();
    throw err;
  }
  gateway.warmUp();
  if (gateway.metrics && cluster.isWorker) answerMetricsRequests(gateway.metrics.registry);
  const info: Listening = {
    port: portOf(server) ?? config.port,
    host,
    mtls_port: mtlsServer ? config.server?.mtls?.port : undefined,
    metrics_port: portOf(metricsServer),
    providers: [...gateway.adapters.keys()],
  };
  // a signal as soon as the start is announced (a supervisor reading it) must find its handler in place
  const timeoutMs = (config.server?.shutdown_timeout ?? 10) * 1000;
  let stopping = false;
  const stop = async (signal: string) => {
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
      options.exit(1);
      return;
    }
    await drain(metricsServer ? [metricsServer] : [], 1000);
    logger.info('gateway stopped', { signal });
    options.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  logger.info('gateway started', {
    issuer: config.issuer,
    host: host ?? 'every interface',
    port: info.port,
    mtls_port: info.mtls_port,
    metrics_port: info.metrics_port,
    providers: info.providers,
    config: config.path,
  });
  options.listening(info);
  return true;
}
