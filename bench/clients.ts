// The agency service every process of `npm run bench` knows: registered at the floor and at each gateway
// (client_secret_basic, PKCE, ES256 ID tokens). Its redirect URI is never fetched: the load generator
// reads the code from the redirect to it.
export const BENCH_CLIENT = {
  clientId: 'bench-rp',
  clientSecret: 'bench-rp-secret-0123456789-0123456789',
  redirectUri: 'http://127.0.0.1:9/cb',
};
