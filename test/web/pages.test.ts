// The words and frame of the login pages, without a browser: every message in every language with the
// same placeholders, the language choice (ui_locales, then Accept-Language by preference), escaping of
// what services and providers name themselves, and the gateway's own files with their cache headers.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { UI_LOCALES } from '../../src/login/locale.ts';
import { uiSchema } from '../../src/config/schema.ts';
import { MESSAGE_KEYS, pickLocale, t } from '../../src/web/i18n.ts';
import messages from '../../src/web/messages.json' with { type: 'json' };
import { assetRoutes, assetUrl, logoUrl, readLogo } from '../../src/web/assets.ts';
import { errorPage, selectionPage } from '../../src/web/views.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('every message exists in Latvian, English and Russian, with the same placeholders', () => {
  expect(MESSAGE_KEYS.length).toBe(Object.keys(messages).length);
  for (const [key, texts] of Object.entries(messages) as [string, Record<string, string>][]) {
    expect([key, Object.keys(texts).sort()]).toEqual([key, [...UI_LOCALES].sort()]);
    for (const locale of UI_LOCALES) {
      expect([key, locale, texts[locale]!.trim().length > 0]).toEqual([key, locale, true]);
      expect([key, locale, placeholders(texts[locale]!)]).toEqual([key, locale, placeholders(texts.lv!)]);
    }
  }
  expect(t('ru', 'auto_return', { seconds: '9' })).toBe('Через 9 секунд вы автоматически вернётесь в э-услугу.');
});

test('the language: ui_locales first, then Accept-Language in order of preference, else Latvian', () => {
  expect(pickLocale('ru en', 'lv')).toBe('ru');
  expect(pickLocale('de', 'en-GB,lv;q=0.8')).toBe('en');
  expect(pickLocale(undefined, 'de-DE, en;q=0.3, ru;q=0.7')).toBe('ru');
  expect(pickLocale(undefined, 'ru-RU')).toBe('ru');
  expect(pickLocale(undefined, 'en;q=0, lv;q=0.1')).toBe('lv');
  expect(pickLocale(undefined, 'fr, de')).toBe('lv');
  expect(pickLocale(['en'], undefined)).toBe('lv');
  expect(pickLocale(undefined, undefined)).toBe('lv');
});

const site = uiSchema.parse({ help: { email: 'help@example.lv' }, privacy_url: '/privacy' });

test('names a service or a provider gives itself are text, never markup', () => {
  const body = selectionPage({
    locale: 'en',
    uid: 'uid-1',
    clientId: 'svc',
    clientName: '<script>alert(1)</script>',
    providers: [{ id: 'p', name: { lv: 'x', en: '"><img src=x onerror=alert(1)>' }, kind: 'bank', group: 'bank' }],
    nonce: 'n',
    site,
  });
  expect(body).not.toContain('<script>alert');
  expect(body).not.toContain('<img src=x');
  expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  // a provider without Russian reads as English on the Russian page
  const ru = selectionPage({
    locale: 'ru',
    uid: 'u',
    clientId: 'svc',
    clientName: 'S',
    providers: [{ id: 'p', name: { lv: 'Banka', en: 'Bank' }, kind: 'bank', group: 'bank' }],
    nonce: 'n',
    site,
  });
  expect(ru).toContain('<span>Bank</span>');
  expect(ru).toContain('<html lang="ru">');
});

test('a refusal page states its delay, returns without scripts, and shows the reference; others do not return by themselves', () => {
  const refusal = errorPage({
    locale: 'lv',
    message: 'error_access_denied',
    nonce: 'n',
    site: { ...site, return_after_seconds: 7 },
    back: '/interaction/abc/complete',
    reference: 'abcdefghijklmnop',
    autoReturn: true,
  });
  expect(refusal).toContain(
    '<noscript><meta http-equiv="refresh" content="7;url=/interaction/abc/complete"></noscript>',
  );
  expect(refusal).toContain('Pēc 7 sekundēm');
  // the first ten characters: short enough to read out to the help desk
  expect(refusal).toContain('<code>abcdefghij</code>');
  const interrupted = errorPage({
    locale: 'lv',
    message: 'error_interrupted',
    nonce: 'n',
    site,
    end: { uid: 'abc', reason: 'interrupted' },
  });
  expect(interrupted).not.toContain('http-equiv="refresh"');
  expect(interrupted).not.toContain('auto-return');
});

test('the gateway serves its own files and the logos, cached for a year under their hash, briefly otherwise', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpm-logo-'));
  writeFileSync(join(dir, 'bank.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
  const logo = readLogo('bank', join(dir, 'bank.png'), 'providers[0].logo');
  expect(() => readLogo('x', join(dir, 'missing.svg'), 'providers[1].logo')).toThrow(
    `providers[1].logo: cannot read ${join(dir, 'missing.svg')}: ENOENT`,
  );
  const app = express().use(assetRoutes([logo]));
  const css = await request(app).get(assetUrl('gateway.css'));
  expect(css.status).toBe(200);
  expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  const stale = await request(app).get('/assets/gateway.css?v=old');
  expect(stale.headers['cache-control']).toBe('public, max-age=300');
  const png = await request(app).get(logoUrl(logo));
  expect(png.headers['content-type']).toBe('image/png');
  expect(png.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  expect((await request(app).get('/favicon.ico')).headers['content-type']).toBe('image/svg+xml');
  expect((await request(app).get('/assets/../package.json')).status).toBe(404);
  expect((await request(app).get('/assets/providers/other.svg')).status).toBe(404);
});
