// The login pages' own files (stylesheet, icons, the refusal page's return timer) and the providers'
// logos, all served by the gateway itself: the pages make no third-party request and the CSP stays
// 'self'. Each URL carries its content's hash, so browsers may keep a file for a year.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import express, { type Response, type Router } from 'express';

interface Asset {
  body: Buffer;
  type: string;
  hash: string;
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function asset(body: Buffer, file: string): Asset {
  const type = TYPES[extname(file).toLowerCase()];
  if (!type) throw new Error(`${file}: not a stylesheet, script, SVG or PNG file`);
  return { body, type, hash: createHash('sha256').update(body).digest('base64url').slice(0, 12) };
}

const DIR = join(import.meta.dirname, 'assets');
const OWN = new Map(
  ['gateway.css', 'favicon.svg', 'emblem.svg', 'auto-return.js'].map((name) => [
    name,
    asset(readFileSync(join(DIR, name)), name),
  ]),
);

/** The URL of one of the gateway's own files. */
export function assetUrl(name: string): string {
  const found = OWN.get(name);
  if (!found) throw new Error(`no asset ${name}`);
  return `/assets/${name}?v=${found.hash}`;
}

/** A provider's logo, read once at start-up. */
export interface Logo {
  id: string;
  asset: Asset;
}

/** Reads a logo file; the error names the configuration path it came from. */
export function readLogo(id: string, file: string, configPath: string): Logo {
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch (err) {
    throw new Error(`${configPath}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return { id, asset: asset(body, file) };
}

export function logoUrl(logo: Logo): string {
  const ext = logo.asset.type === 'image/png' ? 'png' : 'svg';
  return `/assets/providers/${logo.id}.${ext}?v=${logo.asset.hash}`;
}

/** Every configured provider's logo (paths relative to the configuration file) and its URL by provider id;
 * an unreadable one stops the start, naming its configuration path. */
export function providerLogos(config: {
  path: string;
  providers: readonly { config: { id: string; logo?: string | undefined } }[];
}): { logos: Logo[]; urls: Map<string, string> } {
  const logos: Logo[] = [];
  const urls = new Map<string, string>();
  for (const [index, { config: entry }] of config.providers.entries()) {
    if (!entry.logo) continue;
    const logo = readLogo(entry.id, resolve(dirname(config.path), entry.logo), `providers[${index}].logo`);
    logos.push(logo);
    urls.set(entry.id, logoUrl(logo));
  }
  return { logos, urls };
}

function send(res: Response, found: Asset, version: unknown): void {
  res
    .set('Content-Type', found.type)
    // a URL with the current hash never changes; anything else is kept briefly
    .set('Cache-Control', version === found.hash ? 'public, max-age=31536000, immutable' : 'public, max-age=300')
    .set('Cross-Origin-Resource-Policy', 'same-origin')
    .send(found.body);
}

export function assetRoutes(logos: readonly Logo[]): Router {
  const router = express.Router();
  const byFile = new Map(logos.map((logo) => [logoUrl(logo).split('?')[0]!.split('/').pop()!, logo.asset]));
  router.get('/assets/providers/:file', (req, res, next) => {
    const found = byFile.get(req.params.file);
    if (found) send(res, found, req.query.v);
    else next();
  });
  router.get('/assets/:file', (req, res, next) => {
    const found = OWN.get(req.params.file);
    if (found) send(res, found, req.query.v);
    else next();
  });
  // browsers ask for it whatever the page links
  router.get('/favicon.ico', (_req, res) => send(res, OWN.get('favicon.svg')!, undefined));
  return router;
}
