// A test OpenID provider playing an eID (eParaksts-like): node-oidc-provider 9 over HTTPS with a
// development CA (so the real TLS path is exercised), PKCE, PAR, signed request objects, encrypted ID
// tokens and userinfo, tls_client_auth, and a small login page whose user, acr and amr the caller picks.
// Tests can rewrite the token or userinfo response (`op.tamper`) to hand the gateway hostile tokens
// that still travel the real protocol. createTestOpProvider() builds the same OP without a server, for
// mounting under a path prefix in another Express app (the demo). Never part of a production start.
//
// users.ts (people, levels), configuration.ts (the provider's settings), tamper.ts (rewritten answers),
// interaction.ts and pages.ts (the login step), provider.ts (the OP as a request listener), server.ts
// (its own HTTP(S) server with a browser), storage.ts (in-memory adapter), browser.ts (the user agent).
export { createTestOpProvider, type TestOpProvider, type TestOpProviderOptions } from './provider.ts';
export { startTestOp, type LoginChoice, type TestOp, type TestOpOptions } from './server.ts';
export type { Tamper } from './tamper.ts';
export { EIDAS, TEST_USERS, type TestUser } from './users.ts';
