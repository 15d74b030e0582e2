// Assembles the gateway from a validated configuration: store, keys, audit log, adapters, broker,
// the OIDC engine and the HTTP app. Used by `vpm-gateway start` and by the end-to-end tests.
import type { Express } from 'express';
import type Provider from 'oidc-provider';
import type { GatewayConfig } from './config/load.ts';
import type { Store } from './store/store.ts';
import { MemoryStore } from './store/memory.ts';
import { RedisStore } from './store/redis.ts';
import type { AuditLog } from './audit/events.ts';
import { openAuditLog } from './audit/config.ts';
import { SecurityCheckError } from './tls/security-checks.ts';
import { configFindings } from './config/check.ts';
import { createLogger, type Logger } from './logger.ts';
import { loadOrCreateSigningKeys } from './oidc/keys.ts';
import { Accounts } from './oidc/accounts.ts';
import { createOidcProvider } from './oidc/provider.ts';
import { Broker } from './broker/broker.ts';
import { LoginStates } from './broker/login-state.ts';
import type { ProviderAdapter } from './broker/adapter.ts';
import { eligibility } from './registry/onboarding.ts';
import { loaSatisfies, type Loa } from './identity/loa.ts';
import { createApp } from './web/app.ts';
import { mtlsEndpointAliases } from './tls/inbound.ts';
import { interactionRoutes } from './web/interactions.ts';
import { rateLimitRoutes } from './web/rate-limit.ts';
import { demoRoutes } from './web/demo.ts';
import { demoPeers } from './web/demo-peers.ts';
import type { ProviderChoice } from './web/views.ts';

export interface Gateway {
  app: Express;
  provider: Provider;
  broker: Broker;
  store: Store;
  audit: AuditLog;
  logger: Logger;
  adapters: Map<string, ProviderAdapter>;
  /** providers that may serve a client at a level */
  providersFor(clientId: string, acr: Loa | undefined): ProviderChoice[];
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
}

function openStore(config: GatewayConfig): Store {
  if (config.store.type === 'redis') return new RedisStore({ url: config.store.url, prefix: config.store.prefix });
  return new MemoryStore();
}

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.log_level);
  // the seed's security levels, production rules and each adapter kind's own rules: refuse before any
  // key, log or connection is opened (the CLI ran the same checks already; direct callers may not have)
  const findings = await configFindings(config);
  for (const finding of findings.warnings) logger.warn('security check', { finding });
  if (findings.errors.length) throw new SecurityCheckError(findings.errors);
  const store = options.store ?? openStore(config);
  let audit: AuditLog;
  try {
    // on Redis the store also witnesses the latest audit checkpoint (outside the audit directory)
    audit =
      options.audit ??
      (await openAuditLog(config.audit, logger, { store: config.store.type === 'redis' ? store : undefined }));
  } catch (err) {
    if (!options.store) await store.close();
    throw err;
  }
  const baseUrl = config.issuer.replace(/\/$/, '');
  const keys = await loadOrCreateSigningKeys(config.keys.dir);

  const adapters = new Map<string, ProviderAdapter>();
  const offered: (ProviderChoice & { loa: Loa })[] = [];
  const registry: Record<string, unknown>[] = [];
  for (const [i, { factory, config: pc }] of config.providers.entries()) {
    const verdict = eligibility(pc, config.production);
    const reasons = verdict.reasons.map((r) => `providers[${i}].${r}`);
    registry.push({
      provider: pc.id,
      type: pc.type,
      kind: pc.kind,
      stage: pc.onboarding.stage,
      loa: pc.loa,
      offered: verdict.eligible,
      reasons,
    });
    if (!verdict.eligible) {
      logger.warn('provider not offered', { provider: pc.id, reasons });
      continue;
    }
    const adapter = await factory.create(pc, {
      store,
      audit,
      logger: logger.child({ provider: pc.id }),
      baseUrl,
      production: config.production,
      keyDir: config.keys.dir,
    });
    adapters.set(pc.id, adapter);
    offered.push({ id: pc.id, name: pc.name.lv, kind: pc.kind, logo: pc.logo, loa: pc.loa });
  }
  await audit.record({
    type: 'config_loaded',
    detail: {
      digest: config.digest,
      path: config.path,
      providers: [...adapters.keys()],
      clients: config.clients.map((c) => c.client_id),
      production: config.production,
    },
  });
  // the provider registry as this start sees it: each provider's onboarding verdict, offered or not
  for (const entry of registry)
    await audit.record({ type: 'registry_change', providerId: String(entry.provider), detail: entry });

  const clients = new Map(config.clients.map((c) => [c.client_id, c]));
  const providersFor = (clientId: string, acr: Loa | undefined): ProviderChoice[] => {
    const client = clients.get(clientId);
    if (!client) return [];
    return offered.filter((p) => (!client.providers || client.providers.includes(p.id)) && loaSatisfies(p.loa, acr));
  };

  const accounts = new Accounts(store, config.ttl.session);
  const states = new LoginStates(store, config.ttl.login);
  const provider = createOidcProvider({
    config,
    store,
    keys,
    accounts,
    audit,
    logger,
    providersFor: (c, acr) => providersFor(c, acr).map((p) => p.id),
  });
  provider.on('grant.success', (ctx) => {
    const code = ctx.oidc.entities.AuthorizationCode;
    void (async () => {
      const account = code?.grantId ? await accounts.get(code.grantId) : undefined;
      await audit.record({
        type: 'tokens_issued',
        clientId: ctx.oidc.client?.clientId,
        correlationId: account?.correlationId,
        providerId: account?.identity.idp,
        detail: { grant_type: ctx.oidc.params?.grant_type, grant_id: code?.grantId, acr: account?.identity.loa },
      });
    })().catch((err: Error) => logger.error('audit of token issuance failed', { message: err.message }));
  });
  provider.on('grant.error', (ctx, err) => {
    void audit
      .record({ type: 'tokens_issued_error', clientId: ctx.oidc.client?.clientId, detail: { error: err.message } })
      .catch(() => {});
  });
  provider.on('authorization.error', (ctx, err) => {
    // the login's correlation id is its interaction uid (known when the error comes from a finished
    // interaction), its provider the one last started, else the idp_hint the request named
    const uid = ctx.oidc?.entities?.Interaction?.uid;
    const hint = ctx.oidc?.params?.idp_hint;
    void (async () => {
      const providerId =
        (uid ? (await states.ofInteraction(uid))?.providerId : undefined) ??
        (typeof hint === 'string' && adapters.has(hint) ? hint : undefined);
      await audit.record({
        type: 'authorization_request_error',
        correlationId: uid,
        clientId: ctx.oidc?.client?.clientId,
        providerId,
        detail: {
          error: (err as { error?: string }).error ?? err.name,
          description: (err as { error_description?: string }).error_description,
        },
      });
    })().catch(() => {});
  });
  provider.on('end_session.success', (ctx) => {
    void audit.record({ type: 'logout', clientId: ctx.oidc.client?.clientId }).catch(() => {});
  });
  provider.on('server_error', (_ctx, err) =>
    logger.error('oidc server error', { error: err.name, message: err.message }),
  );

  const broker = new Broker({
    states,
    audit,
    logger,
    adapters,
    callbackUrl: (id) => `${baseUrl}/broker/callback/${id}`,
  });

  const routers = [
    rateLimitRoutes({ store, audit, logger, limits: config.limits }),
    interactionRoutes({
      provider,
      broker,
      store,
      accounts,
      audit,
      logger,
      providersFor,
      resultTtlSeconds: 300,
      interactionTtlSeconds: config.ttl.interaction,
      providerStarts: config.limits.provider_starts,
    }),
  ];
  const demoClient = config.demo.enabled ? clients.get(config.demo.client_id) : undefined;
  if (demoClient) {
    routers.push(
      demoRoutes({
        issuer: config.issuer,
        clientId: demoClient.client_id,
        clientSecret: demoClient.client_secret ?? '',
        redirectUri: demoClient.redirect_uris[0]!,
        postLogoutRedirectUri: demoClient.post_logout_redirect_uris[0] ?? `${baseUrl}/`,
        store,
        providers: offered.map((p) => ({ id: p.id, name: p.name })),
      }),
    );
  }
  const mountPeers = config.demo.enabled && !config.production ? await demoPeers(config) : () => {};
  const app = createApp({
    provider,
    logger,
    issuer: config.issuer,
    aliases: Object.values(mtlsEndpointAliases(config.server, config.issuer) ?? {}).map((u) => new URL(u).origin),
    production: config.production,
    proxy: config.proxy,
    routers,
    // where our pages' forms lead: providers' form targets and the redirects answering a choice, and the
    // services' redirect URIs (the way back and the form_post response mode end there)
    formActionOrigins: () => [
      ...new Set([
        ...[...adapters.values()].flatMap((a) => a.formActionOrigins?.() ?? []),
        ...config.clients.flatMap((c) => c.redirect_uris.map((u) => new URL(u).origin)),
      ]),
    ],
    healthy: () => (audit as { status?: () => { healthy: boolean } }).status?.().healthy ?? true,
    auditCheckpoint: () => (audit as { latestCheckpoint?: () => object | undefined }).latestCheckpoint?.(),
    mount: (a) => {
      for (const adapter of adapters.values()) adapter.routes?.(a, `/providers/${adapter.id}`);
      mountPeers(a);
    },
  });

  return {
    app,
    provider,
    broker,
    store,
    audit,
    logger,
    adapters,
    providersFor,
    warmUp() {
      for (const adapter of adapters.values()) adapter.warmUp?.();
    },
    async close() {
      for (const adapter of adapters.values()) await adapter.close?.();
      await audit.close();
      if (!options.store) await store.close();
    },
  };
}
