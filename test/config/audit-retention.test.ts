// audit.retention_days and audit.archive_dir in the gateway configuration: whole days from one, an archive
// outside the audit directory and only with a retention period; each refusal names its path.
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { MOCK_PROVIDER } from '../support/gateway.ts';

const base = {
  issuer: 'https://vpm.example.lv',
  clients: [{ client_id: 'svc', client_secret: 's'.repeat(40), redirect_uris: ['https://svc.example.lv/cb'] }],
  providers: [MOCK_PROVIDER],
};

const parse = (audit: Record<string, unknown>) =>
  parseConfig(stringify({ ...base, audit }), 'x.yaml', { factories: ADAPTER_FACTORIES, env: {} });

const problems = (audit: Record<string, unknown>): string[] => {
  try {
    parse(audit);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

test('absent, every entry is kept; a whole number of days from 1 is taken, with an archive outside the log', () => {
  expect(parse({}).audit.retention_days).toBeUndefined();
  expect(parse({ retention_days: 1 }).audit.retention_days).toBe(1);
  const withArchive = parse({ dir: '/var/audit', retention_days: 365, archive_dir: '/var/audit-archive' });
  expect(withArchive.audit).toMatchObject({ retention_days: 365, archive_dir: '/var/audit-archive' });
});

test('a period under a day, not whole days or not a number is refused, naming audit.retention_days', () => {
  expect(problems({ retention_days: 0 })).toEqual(['audit.retention_days: at least 1 (a day)']);
  expect(problems({ retention_days: 1.5 })).toEqual(['audit.retention_days: whole days']);
  expect(problems({ retention_days: '30d' })).toEqual([
    'audit.retention_days: Invalid input: expected number, received string',
  ]);
});

test('an archive inside the audit directory, holding it, or without a retention period is refused, naming audit.archive_dir', () => {
  const inside =
    'audit.archive_dir: the archive of retired segments must be outside the audit directory (and not hold it)';
  expect(problems({ dir: '/var/audit', retention_days: 30, archive_dir: '/var/audit/old' })).toEqual([inside]);
  expect(problems({ dir: '/var/audit/gw-1', retention_days: 30, archive_dir: '/var/audit' })).toEqual([inside]);
  expect(problems({ archive_dir: '/var/audit-archive' })).toEqual([
    'audit.archive_dir: an archive of retired segments needs audit.retention_days (nothing is retired without it)',
  ]);
});
