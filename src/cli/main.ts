// vpm-gateway command line: start | config check | certs dev | audit ...
import { parseArgs } from 'node:util';
import { loadConfigFile, ConfigError, type GatewayConfig } from '../config/load.ts';
import { ADAPTER_FACTORIES } from '../registry/adapters.ts';
import { createGateway } from '../gateway.ts';
import { checkConfigFile, type FileCheck } from '../config/check.ts';
import { demoMaterialPlanned, prepareDemoMaterial } from '../web/demo-peers.ts';
import { createLogger } from '../logger.ts';
import { SecurityCheckError } from '../tls/security-checks.ts';
import { listen, listenMtls } from '../tls/inbound.ts';
import { AuditUnavailableError } from '../audit/events.ts';

const USAGE = `usage: vpm-gateway <command> [options]

  start [--config FILE]           run the gateway (default config: $VPM_CONFIG or config/demo.yaml;
                                  PORT and ISSUER override the file)
  config check [FILE]             validate a configuration file; exits 1 on errors
  certs dev [--dir DIR]           create the development PKI (CA, server and client certificates)
  audit verify|query|prove|verify-proof|consistency|repair ...
                                  inspect and verify the audit log (see README)
`;

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
}

const stdio: Io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

function configPath(explicit?: string): string {
  return explicit ?? process.env.VPM_CONFIG ?? 'config/demo.yaml';
}

function load(path: string, io: Io): GatewayConfig | undefined {
  try {
    return loadConfigFile(path, { factories: ADAPTER_FACTORIES });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${path}: configuration is invalid\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`);
      return undefined;
    }
    throw err;
  }
}

/** Every problem `start` would refuse, collected without writing anything (the demo's key material counts as planned). */
function check(path: string): Promise<FileCheck> {
  return checkConfigFile(path, { factories: ADAPTER_FACTORIES, planned: demoMaterialPlanned(path) });
}

/** Prints the problems of a checked file; true when there are none. */
function report(path: string, result: FileCheck, io: Io, refusedHeading: string): boolean {
  if (result.invalid.length)
    io.stderr(`${path}: configuration is invalid\n${result.invalid.map((p) => `  ${p}`).join('\n')}\n`);
  else if (result.refused.length)
    io.stderr(`${path}: ${refusedHeading}\n${result.refused.map((e) => `  ${e}`).join('\n')}\n`);
  return !result.invalid.length && !result.refused.length;
}

async function start(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
  const path = configPath(values.config);
  // the same checks as `config check`, before any key, directory or demo material is created
  if (!report(path, await check(path), io, 'refusing to start:')) return 1;
  await prepareDemoMaterial(path);
  const config = load(path, io);
  if (!config) return 1;
  const logger = createLogger(config.log_level);
  let gateway;
  try {
    // refuses insecure configuration (the seed's security levels) and an unwritable audit log
    gateway = await createGateway(config, { logger });
  } catch (err) {
    if (!(err instanceof SecurityCheckError || err instanceof AuditUnavailableError)) throw err;
    io.stderr(`${path}: ${err.message}\n`);
    return 1;
  }
  // HTTPS (optionally requesting client certificates) when server.tls is configured
  const server = await listen(gateway.app, config.server, config.port);
  gateway.warmUp();
  // RFC 8705 endpoint aliases on their own listener (server.mtls.port), so login pages never ask for a certificate
  const mtlsServer = await listenMtls(gateway.app, config.server);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info('gateway started', {
    issuer: config.issuer,
    port,
    mtls_port: config.server?.mtls?.port,
    providers: [...gateway.adapters.keys()],
    config: path,
  });
  io.stdout(
    `vpm-gateway listening on port ${port}\n${mtlsServer ? `mutual-TLS endpoints on port ${config.server!.mtls!.port}\n` : ''}${config.demo.enabled ? `Open the demo e-service: ${config.issuer.replace(/\/$/, '')}/\n` : `Issuer: ${config.issuer}\n`}`,
  );
  const stop = async () => {
    server.close();
    mtlsServer?.close();
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest, io);
    case 'config': {
      if (rest[0] !== 'check') break;
      const path = configPath(rest[1]);
      // exactly what `start` checks, and nothing written: the demo's key material counts as planned
      const result = await check(path);
      for (const w of result.warnings) io.stdout(`warning: ${w}\n`);
      if (!report(path, result, io, 'refused by the security checks')) return 1;
      const config = result.config!;
      io.stdout(`${path}: ok (${config.clients.length} clients, ${config.providers.length} providers)\n`);
      return 0;
    }
    case 'certs': {
      const { runCerts } = await import('./certs.ts');
      return runCerts(rest, io);
    }
    case 'audit': {
      const { runAudit } = await import('./audit.ts');
      return runAudit(rest, io);
    }
    case undefined:
    case 'help':
    case '--help':
      io.stdout(USAGE);
      return command === undefined ? 1 : 0;
  }
  io.stderr(`unknown command: ${argv.join(' ')}\n${USAGE}`);
  return 2;
}

if (
  import.meta.url === `file://${process.argv[1]}` ||
  process.argv[1]?.endsWith('vpm-gateway.js') ||
  process.argv[1]?.endsWith('vpm-gateway')
) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(`vpm-gateway: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
