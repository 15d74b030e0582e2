// A test SAML 2.0 IdP (an eIDAS-node look-alike) that signs with its own key. It verifies the SP's signed
// AuthnRequest (HTTP-Redirect query signature or HTTP-POST enveloped signature), shows a login page with
// "log in" and "cancel", and answers by HTTP-POST with a signed (optionally encrypted) Response. Like an
// eIDAS node it insists on the eIDAS request extensions (SPType, RequestedAttributes) in the eidas profile
// and releases only the attributes requested. Its metadata (GET /metadata) is signed and expires. Like a
// real IdP it keeps a single sign-on session per browser and answers from it unless ForceAuthn="true";
// `misbehave.ignoreForceAuthn` makes it reuse the session even then.
// Use startTestIdp() in tests, or mount createTestIdp()'s router in-process (the demo does) under its base URL.
//
// options.ts (what it is told), authn-request.ts (the request checks), answer.ts (the Response and the
// attributes released), metadata.ts, pages.ts, session.ts (single sign-on), idp.ts (the routes), server.ts
// (its own loopback server); response-builder.ts builds Responses and response-protection.ts signs and encrypts
// them, here and in attack tests.
export { createTestIdp, type TestIdp } from './idp.ts';
export { signMetadata } from './metadata.ts';
export {
  DEFAULT_TEST_USERS,
  type IdpMetadataOptions,
  type TestIdpOptions,
  type TestUser,
  type TrustedSp,
} from './options.ts';
export { autoPostForm, parseForm } from './pages.ts';
export { startTestIdp, type RunningTestIdp } from './server.ts';
