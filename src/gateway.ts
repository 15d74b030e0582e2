// Assembles the gateway from a validated configuration: store, keys, audit log, adapters, broker,
// the OIDC engine and the HTTP app. Used by `vpm-gateway start` and by the end-to-end tests.
import type { RequestListener } from 'node:http';
import type Provider from 'oidc-provider';
import type { GatewayConfig } from './config/load.ts';
import type { Store } from './store/store.ts';
import { readsAhead } from './oidc/reads-ahead.ts';
import type { AuditLog } from './audit/events.ts';
import { SecurityCheckError } from './tls/security-checks.ts';
import { watchCertificates } from './tls/client-certificate-expiry.ts';
import { configFindings } from './config/check.ts';
import { createLogger, type Logger } from './logger.ts';
import type { RunningKeys } from './keys/open.ts';
import { openDurableParts } from './durable-parts.ts';
import { serveProviders } from './served-providers.ts';
import type { LiveRegistry } from './onboarding/live.ts';
import type { ProviderPolicy } from './login/policy.ts';
import { jwksRoutes } from './keys/engine-keys.ts';
import { createEngine } from './oidc/engine.ts';
import { serviceHomes } from './oidc/clients.ts';
import type { ProviderAdapter } from './broker/adapter.ts';
import { Accounts, identityLifetime } from './login/accounts.ts';
import { Broker } from './login/broker.ts';
import { LoginStates } from './login/login-state.ts';
import { LoginFlow } from './login/flow.ts';
import { auditEngineEvents } from './login/engine-events.ts';
import { anonymousRecords } from './audit/bounded-records.ts';
import { forgetResumedInteractions } from './login/interaction-markers.ts';
import { createApp } from './web/app.ts';
import { providerLogos } from './web/assets.ts';
import { mtlsEndpointAliases } from './tls/mtls-endpoint-aliases.ts';
import { callbackCharset, loginRoutes } from './web/login-routes.ts';
import { browserBinding } from './web/browser-binding.ts';
import { enginePages } from './web/engine-pages.ts';
import { rateLimitRoutes } from './web/rate-limit.ts';
import { engineLogins } from './web/limited-login.ts';
import { demoRoutesOf } from './web/demo.ts';
import { demoPeers } from './web/demo-peers.ts';
import { GatewayMetrics } from './ops/metrics.ts';
import { meteredAdapter, meteredAudit, meteredStore, stepTimer } from './ops/metered.ts';
import { readiness, type Readiness } from './ops/readiness.ts';
import { KEY_SET_PHRASES } from './keys/agreement-verdict.ts';

export interface Gateway {
  app: RequestListener;
  provider: Provider;
  broker: Broker;
  store: Store;
  audit: AuditLog;
  logger: Logger;
  adapters: Map<string, ProviderAdapter>;
  /** which providers each client may use, at which level */
  policy: ProviderPolicy;
  /** the joining records as this instance applies them (with a `registry`); emits `applied` on a change */
  registry: LiveRegistry | undefined;
  /** Prometheus metrics, when `metrics` is configured (served by `start` on their own listener) */
  metrics: GatewayMetrics | undefined;
  /** store reachable, signing keys loaded and agreed with the other instances, audit log healthy, not
   * shutting down (/readyz) */
  readiness(): Promise<Readiness>;
  /** token and cookie keys in use; `refresh()` is the periodic reload, now */
  keys: RunningKeys;
  /** a graceful shutdown has begun: not ready from now on */
  beginShutdown(): void;
  /** call once the server listens: adapters prefetch upstream metadata */
  warmUp(): void;
  close(): Promise<void>;
}

export interface GatewayOptions {
  logger?: Logger;
  /** override the configured audit log (tests) */
  audit?: AuditLog;
  /** override the configured store (tests) */
  store?: Store;
  /** false: another process of this gateway logs the warnings about the whole gateway (the security checks'
   * findings, certificate expiry), so that an operator reads each once (`start --workers N`) */
  gatewayWarnings?: boolean;
}

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.log_level);
  // the security levels, production rules, each adapter kind's own rules and the joining records checked
  // against the providers: refuse before any key, log or connection is opened (the CLI ran the same
  // checks already; direct callers may not have)
  const findings = await configFindings(config);
  if (options.gatewayWarnings !== false)
    for (const finding of findings.warnings) logger.warn('security check', { finding });
  if (findings.errors.length || !findings.registry) throw new SecurityCheckError(findings.errors);
  const providerRegistry = findings.registry;
  // every provider's logo is served, so one let in while running has its own at once; an unreadable one
  // stops the start here
  const { logos, urls: logoUrls } = providerLogos(config);
  const { rawStore, keys, rawAudit } = await openDurableParts(config, options, logger);
  const metrics = config.metrics
    ? new GatewayMetrics({
        providers: config.providers.map((p) => p.config.id),
        clients: config.clients.map((c) => c.client_id),
      })
    : undefined;
  // an engine request's next reads start as soon as their keys are known (src/oidc/reads-ahead.ts)
  const { store, readAhead } = readsAhead(metrics ? meteredStore(rawStore, metrics) : rawStore);
  // what the gateway's parts record through: timed and counted when metrics are on
  const audit = metrics ? meteredAudit(rawAudit, metrics) : rawAudit;
  const baseUrl = config.issuer.replace(/\/$/, '');

  const { production, keys: keyConfig } = config;
  const binding = browserBinding(config.issuer, config.ttl.login);
  const browserOf = binding.digestOf;
  const adapterDeps = (id: string) => {
    const adapterLogger = logger.child({ provider: id });
    return { store, audit, logger: adapterLogger, baseUrl, production, keyDir: keyConfig.dir, browserOf };
  };
  const wrap = metrics ? (adapter: ProviderAdapter) => meteredAdapter(adapter, metrics) : undefined;
  const { adapters, opener, policy, registry } = await serveProviders(config, {
    providerRegistry,
    deps: adapterDeps,
    wrap,
    logoUrls,
    store,
    audit,
    logger,
  });
  const accounts = new Accounts(store, identityLifetime(config.ttl));
  // an answer arriving after the login expired still finds its login while the interaction lives
  const states = new LoginStates(store, config.ttl.login, config.ttl.interaction);
  const callbackUrl = (providerId: string) => `${baseUrl}/broker/callback/${providerId}`;
  const recordAnonymous = anonymousRecords({ audit, store, logger, limits: config.limits });
  const broker = new Broker({ states, audit, logger, adapters, callbackUrl, recordAnonymous });
  const serviceHome = serviceHomes(config.clients);
  const pages = enginePages(logger, serviceHome);
  const engineDeps = { config, store, readAhead, keys: keys.ring, accounts, audit, policy, pages, logger };
  const engine = createEngine({ ...engineDeps, browserOf: binding.digestOf });
  const auditDeps = { audit, logger, accounts, broker, store, limits: config.limits, recordAnonymous };
  const engineAudit = auditEngineEvents(engine, auditDeps);
  forgetResumedInteractions(engine, store, logger);
  const limits = {
    providerStarts: config.limits.provider_starts,
    interactionTtlSeconds: config.ttl.interaction,
    resultTtlSeconds: 300,
  };
  const flow = new LoginFlow({ engine, broker, policy, accounts, store, audit, logger, limits, serviceHome });

  const routers = [
    jwksRoutes(keys.ring),
    rateLimitRoutes({ store, audit, logger, limits: config.limits, findLogin: engineLogins(engine), recordAnonymous }),
    loginRoutes({ engine, flow, logger, binding }),
  ];
  const demo = demoRoutesOf(config, store, policy);
  if (demo) routers.push(demo);
  const mountPeers = config.demo.enabled && !config.production ? await demoPeers(config) : () => {};
  // the services' redirect URIs are fixed by the configuration: their origins are worked out once, the
  // providers' (which metadata may still teach) on every page
  const clientOrigins = config.clients.flatMap((c) => c.redirect_uris.map((u) => new URL(u).origin));
  const app = createApp({
    provider: engine,
    logger,
    issuer: config.issuer,
    aliases: Object.values(mtlsEndpointAliases(config.server, config.issuer) ?? {}).map((u) => new URL(u).origin),
    production: config.production,
    proxy: config.proxy,
    routers,
    ui: config.ui,
    logos,
    serviceHome,
    answerCharset: callbackCharset(flow),
    // where our pages' forms lead: providers' form targets and the redirects answering a choice, and the
    // services' redirect URIs (the way back and the form_post response mode end there)
    formActionOrigins: () => [
      ...new Set([...[...adapters.values()].flatMap((a) => a.formActionOrigins?.() ?? []), ...clientOrigins]),
    ],
    observe: metrics ? stepTimer(metrics) : undefined,
    ready: () => ready(),
    auditCheckpoint: () => audit.latestCheckpoint?.(),
    mount: (express) => {
      for (const adapter of adapters.values()) adapter.routes?.(express, `/providers/${adapter.id}`);
      opener.mountOn(express);
      mountPeers(express);
    },
  });

  const running = keys;
  metrics?.watchKeyAgreement(() => running.agreement());
  const certificateWatch = watchCertificates(config, adapters.values(), logger, options.gatewayWarnings);
  metrics?.watchClientCertificates(certificateWatch);
  let stopping = false;
  const ready = () =>
    readiness({
      store: rawStore,
      audit: rawAudit,
      signingKeys: () => Object.keys(running.ring.view.signing).length,
      keySet: () => KEY_SET_PHRASES[running.agreement().standing],
      stopping: () => stopping,
    });
  return {
    app,
    provider: engine,
    broker,
    store: rawStore,
    audit: rawAudit,
    logger,
    adapters,
    policy,
    registry,
    metrics,
    readiness: ready,
    keys: running,
    beginShutdown() {
      stopping = true;
    },
    warmUp() {
      opener.started();
      for (const adapter of adapters.values()) adapter.warmUp?.();
    },
    async close() {
      registry?.close();
      certificateWatch.stop();
      for (const adapter of adapters.values()) await adapter.close?.();
      await running.close();
      // the engine records a token request's outcome after its answer: those entries go under the final checkpoint
      await engineAudit.settled();
      await rawAudit.close();
      if (!options.store) await rawStore.close();
    },
  };
}
