// node-oidc-provider's request context (what Provider.ctx reads), which it ships without types: tests run
// code inside it as the engine runs a request.
declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';
  const als: AsyncLocalStorage<object>;
  export default als;
}
