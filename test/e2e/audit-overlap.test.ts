// Two audit entries of one step are written together (one group commit) rather than one fsync after the
// other: the provider choice with the broker's request, the provider's answer with the verdict. Neither
// may go on when only the first of the pair is refused, even when that refusal arrives after the second
// entry was accepted (a file log refusing on low disk space does not latch, so a later entry can pass).
import { AuditUnavailableError, MemoryAuditLog, type AuditEvent, type AuditEventType } from '../../src/audit/events.ts';
import { useGateway, beginLogin, chooseProvider, mockProviderLogin, atRp } from '../support/gateway.ts';

/** Refuses the entries of the given types, each refusal only once the next entry has been accepted. */
class LateRefusals extends MemoryAuditLog {
  refuse = new Set<AuditEventType>();
  private waiting: (() => void)[] = [];

  override async record(event: AuditEvent): Promise<void> {
    if (this.refuse.has(event.type)) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        // a login that waits for this entry before the next one still hears the refusal
        setImmediate(resolve);
      });
      throw new AuditUnavailableError(`audit log unavailable (${event.type} refused)`);
    }
    await super.record(event);
    for (const release of this.waiting.splice(0)) release();
  }
}

const audit = new LateRefusals();
const gw = useGateway({ audit });

afterEach(() => {
  audit.refuse.clear();
});

test('the provider choice refused: the user is never sent to the provider, the service hears temporarily_unavailable', async () => {
  audit.refuse.add('provider_chosen');
  const started = await beginLogin(gw.rp, { ui_locales: 'en' });
  const page = await started.browser.follow(started.hop);
  const final = await started.browser.follow(await chooseProvider(started.browser, page.url, 'mock-eid'), atRp);
  expect(new URL(final.location!).searchParams.get('error')).toBe('temporarily_unavailable');
  expect(started.browser.history.some((h) => h.url.includes('/providers/mock-eid/authorize'))).toBe(false);
  expect(started.browser.history.some((h) => h.location?.includes('/providers/mock-eid/authorize'))).toBe(false);
});

test("the provider's answer refused: no identity is released, the service hears temporarily_unavailable", async () => {
  const started = await beginLogin(gw.rp, { idp_hint: 'mock-eid', ui_locales: 'en' });
  const authorize = await started.browser.follow(
    started.hop,
    (h) => !!h.location?.includes('/providers/mock-eid/authorize'),
  );
  const answer = await mockProviderLogin(started.browser, authorize, 0);
  audit.refuse.add('provider_response');
  const page = await started.browser.get(answer.location!);
  expect(page.status).toBe(400);
  expect(page.body).toContain('temporarily unavailable');
  audit.refuse.clear();
  const back = /<a class="button" href="([^"]+)">/.exec(page.body)![1]!;
  const final = await started.browser.follow(await started.browser.get(new URL(back, gw.issuer).toString()), atRp);
  const url = new URL(final.location!);
  expect(url.searchParams.get('error')).toBe('temporarily_unavailable');
  expect(url.searchParams.get('code')).toBeNull();
  const uid = new URL(authorize.url).pathname.split('/').at(-1);
  expect(audit.types(uid)).not.toContain('identity_released');
});

test('with every entry accepted the same login completes, both pairs in order', async () => {
  const started = await beginLogin(gw.rp, { ui_locales: 'en' });
  const page = await started.browser.follow(started.hop);
  const uid = new URL(page.url).pathname.split('/').at(-1)!;
  const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
  const answer = await mockProviderLogin(started.browser, authorize, 0);
  const final = await started.browser.follow(answer, atRp);
  expect(new URL(final.location!).searchParams.get('code')).toBeTruthy();
  expect(audit.types(uid)).toEqual([
    'authorization_request',
    'provider_chosen',
    'provider_request',
    'provider_response',
    'verification',
  ]);
});
