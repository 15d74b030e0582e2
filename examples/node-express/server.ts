// Runs the example e-service: node examples/node-express/server.ts (Node 22.18+/24: TypeScript type stripping).
// Settings come from the environment; trust the gateway's CA with NODE_EXTRA_CA_CERTS (see README.md).
import { createApp } from './app.ts';

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`set ${name}`);
  return v;
};

const port = Number(env('PORT', '8401'));
const app = await createApp({
  issuer: env('ISSUER', 'https://127.0.0.1:3443'),
  clientId: env('CLIENT_ID', 'example-node-express'),
  clientSecret: env('CLIENT_SECRET', 'example-node-express-secret-not-for-production'),
  baseUrl: env('BASE_URL', `http://127.0.0.1:${port}`),
});
app.listen(port, '127.0.0.1', () => console.log(`example e-service listening on http://127.0.0.1:${port}/`));
