// The engine's resume (/auth/<uid>) reached when its login is no longer there: reloaded after the code went to
// the service (the engine spent the login and removed its resume cookie), or in a browser that keeps no
// cookies. The page says what happened in the browser's language, as the login pages do for a login they
// cannot find (src/web/app.ts), and not "The request cannot be processed", which reads as a fault of the
// service's request and tells the user nothing to do.
import { Browser } from '../support/browser.ts';
import { atRp, beginLogin, chooseProvider, mockProviderLogin, useGateway } from '../support/gateway.ts';

const gw = useGateway();

const SESSION_GONE = 'The login session was not found';

test('a resume reloaded after the code went to the service: the login session was not found', async () => {
  const started = await beginLogin(gw.rp, { ui_locales: 'en' }, new Browser());
  const page = await started.browser.follow(started.hop);
  const answer = await mockProviderLogin(
    started.browser,
    await chooseProvider(started.browser, page.url, 'mock-eid'),
    0,
  );
  const resume = await started.browser.get(new URL(answer.location!, gw.issuer).toString());
  expect(resume.location).toMatch(/\/auth\//);
  const resumeUrl = new URL(resume.location!, gw.issuer).toString();
  expect(atRp(await started.browser.follow(await started.browser.get(resumeUrl), atRp))).toBe(true);

  const reloaded = await started.browser.get(resumeUrl);
  expect(reloaded.status).toBe(400);
  expect(reloaded.body).toContain('<html lang="en"');
  expect(reloaded.body).toContain(SESSION_GONE);
});

test('a resume without any cookie, in Russian as the browser asks: the login session was not found', async () => {
  const res = await fetch(`${gw.issuer}/auth/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, {
    headers: { accept: 'text/html', 'accept-language': 'ru' },
  });
  expect(res.status).toBe(400);
  const body = await res.text();
  expect(body).toContain('<html lang="ru"');
  expect(body).toContain('Сеанс входа не найден');
});
