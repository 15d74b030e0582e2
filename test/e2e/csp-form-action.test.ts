// CSP form-action on the gateway's pages: our own origin and every registered service's redirect origin
// (the way back and form_post end there), each once, worked out from the configuration at start.
import { useGateway, beginLogin } from '../support/gateway.ts';

const gw = useGateway({
  clients: [
    {
      client_id: 'rp-other',
      client_secret: 'rp-other-secret-0123456789-0123456789',
      redirect_uris: ['https://other.example.test/cb', 'https://other.example.test/cb2', 'http://localhost:8080/cb'],
    },
  ],
});

test("the selection page's form-action names self and each service's redirect origin once", async () => {
  const started = await beginLogin(gw.rp, { ui_locales: 'en' });
  const page = await started.browser.follow(started.hop);
  expect(page.status).toBe(200);
  const csp = page.headers.get('content-security-policy') ?? '';
  const formAction = /form-action ([^;]*)/.exec(csp)?.[1]?.split(' ') ?? [];
  expect(formAction.sort()).toEqual(
    ["'self'", 'http://localhost:8080', 'https://other.example.test', 'https://rp.example.test'].sort(),
  );
  // the page's nonce is fresh per response, the origins are not recomputed into something else
  const again = await started.browser.get(page.url);
  const csp2 = again.headers.get('content-security-policy') ?? '';
  expect(/form-action ([^;]*)/.exec(csp2)?.[1]).toBe(/form-action ([^;]*)/.exec(csp)?.[1]);
  expect(/'nonce-([^']+)'/.exec(csp2)?.[1]).not.toBe(/'nonce-([^']+)'/.exec(csp)?.[1]);
});
