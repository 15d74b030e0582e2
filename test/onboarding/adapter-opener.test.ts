// Opening an adapter while running fails closed: an entry its kind's rules refuse (the mock provider in
// production) gets no adapter, so it is never offered, and the operator sees why in the log; one that
// passes is opened once however many looks ask for it at the same time.
import { MemoryAuditLog } from '../../src/audit/events.ts';
import type { ProviderAdapter } from '../../src/broker/adapter.ts';
import type { ProviderEntry } from '../../src/config/load.ts';
import { memoryLogger } from '../../src/logger.ts';
import { AdapterOpener } from '../../src/onboarding/adapters.ts';
import type { Standing } from '../../src/onboarding/standing.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { factory as mock } from '../../providers/mock/index.ts';
import { MOCK_PROVIDER } from '../support/provider-entries.ts';

const { onboarding: _, ...raw } = MOCK_PROVIDER;
const entry = { factory: mock, config: mock.schema.parse(raw) } as unknown as ProviderEntry;
const testing: Standing = {
  provider: 'mock-eid',
  stage: 'testing',
  revision: 6,
  unmet: [],
  audience: 'test',
  dormant: false,
};

function opener(production: boolean) {
  const logger = memoryLogger();
  const created: ProviderAdapter[] = [];
  const adapters = new Map<string, ProviderAdapter>();
  const baseUrl = 'https://gateway.example.lv';
  const deps = () => ({
    store: new MemoryStore(),
    audit: new MemoryAuditLog(),
    logger,
    baseUrl,
    production,
    keyDir: '/nonexistent',
    browserOf: () => undefined,
  });
  const it = new AdapterOpener({
    entries: new Map([['mock-eid', entry]]),
    deps,
    check: { production, baseUrl },
    adapters,
    wrap: (adapter: ProviderAdapter) => {
      created.push(adapter);
      return adapter;
    },
    logger,
  });
  return { it, adapters, logger, created };
}

test("an entry its kind's rules refuse gets no adapter, and the log says why", async () => {
  const { it, adapters, logger } = opener(true);
  expect(await it.openNeeded([testing])).toEqual([]);
  expect(adapters.size).toBe(0);
  const line = logger.lines.find((l) => l.includes('provider adapter not opened'));
  expect(line).toContain('refused in production');
});

test('one that passes is opened once, even when two looks ask together; an unoffered one is not', async () => {
  const { it, adapters, created } = opener(false);
  const refused: Standing = { ...testing, stage: 'review', audience: 'none' };
  const [first, second] = await Promise.all([it.openNeeded([testing, refused]), it.openNeeded([testing])]);
  expect([...first, ...second]).toEqual(['mock-eid', 'mock-eid']);
  expect([...adapters.keys()]).toEqual(['mock-eid']);
  expect(created).toHaveLength(1);
  const opened = adapters.get('mock-eid');
  expect(await it.openNeeded([testing])).toEqual([]);
  expect(adapters.get('mock-eid')).toBe(opened);
});
