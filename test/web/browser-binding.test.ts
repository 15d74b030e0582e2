// The binding cookie itself (src/web/browser-binding.ts), on a real HTTP server: its attributes over https
// and plain http, a value of the gateway's own kept, anything else replaced and never read as one.
import express from 'express';
import request from 'supertest';
import { browserBinding } from '../../src/web/browser-binding.ts';

function app(issuer: string) {
  const binding = browserBinding(issuer, 600);
  const server = express();
  server.get('/start', (req, res) => {
    res.json({ value: binding.ensure(req, res) });
  });
  server.get('/callback', (req, res) => {
    res.json({ value: binding.read(req) ?? null });
  });
  return { server, binding };
}

const VALUE = `${'A'.repeat(21)}_-${'z'.repeat(20)}`;

test('over https: __Host- (no Domain, Path=/), Secure, HttpOnly and SameSite=None for cross-site form-post answers', async () => {
  const { server, binding } = app('https://login.example.lv');
  expect(binding.name).toBe('__Host-vpm-browser');
  const res = await request(server).get('/start');
  const value = (res.body as { value: string }).value;
  expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(res.headers['set-cookie']).toEqual([
    `__Host-vpm-browser=${value}; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=None`,
  ]);
});

test('over plain http (development): Lax, since browsers drop SameSite=None without Secure', async () => {
  const { server, binding } = app('http://localhost:3000');
  expect(binding.name).toBe('vpm-browser');
  const res = await request(server).get('/start');
  expect(res.headers['set-cookie']![0]).toMatch(
    /^vpm-browser=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/,
  );
});

test("the browser's value is kept (logins in two tabs), refreshed; a new browser gets a new one", async () => {
  const { server } = app('https://login.example.lv');
  const kept = await request(server).get('/start').set('Cookie', `other=1; __Host-vpm-browser=${VALUE}`);
  expect((kept.body as { value: string }).value).toBe(VALUE);
  expect(kept.headers['set-cookie']![0]).toContain(`__Host-vpm-browser=${VALUE}; Max-Age=600`);
  const a = await request(server).get('/start');
  const b = await request(server).get('/start');
  expect((a.body as { value: string }).value).not.toBe((b.body as { value: string }).value);
});

test.each([
  ['too short', 'short'],
  ['too long', `${VALUE}A`],
  ['outside base64url', `${VALUE.slice(0, 42)}=`],
  ['empty', ''],
])('a value %s is not one of ours: replaced at the start, never read at the callback', async (_, planted) => {
  const { server } = app('https://login.example.lv');
  const cookie = `__Host-vpm-browser=${encodeURIComponent(planted)}`;
  const started = await request(server).get('/start').set('Cookie', cookie);
  expect((started.body as { value: string }).value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const read = await request(server).get('/callback').set('Cookie', cookie);
  expect((read.body as { value: string | null }).value).toBeNull();
  // the same name without the prefix (a plain-http page could set that one) is not read over https
  const unprefixed = await request(server).get('/callback').set('Cookie', `vpm-browser=${VALUE}`);
  expect((unprefixed.body as { value: string | null }).value).toBeNull();
});
