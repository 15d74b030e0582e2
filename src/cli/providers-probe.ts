// `providers probe ID`: the security probe against the provider's real endpoints (src/onboarding/probe),
// printed for people or as JSON and stored with its record (the testing stage needs a passing one).
import { describeProbe, ProbeSetupError, probeProvider, type ProbeReport } from '../onboarding/probe/probe.ts';
import { emit, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './command.ts';
import { providersCommand, recordOf } from './providers-context.ts';
import { saveReport } from './providers-save.ts';

export const probe = providersCommand({
  name: 'probe',
  synopsis: 'ID [options]',
  summary:
    "Checks the VPM security levels against the provider's endpoints: TLS 1.2+ with AEAD suites only and a\n" +
    'valid chain not expiring within security.cert_expiry_warning_days; on back channels mutual\n' +
    "authentication (a connection without the gateway's client certificate refused; browser-facing\n" +
    'endpoints are exempt, their answers are signed); strong keys and algorithms; audit.\n' +
    'The report is stored with the record. Exit 1 when a check fails or the report cannot be stored.',
  options: {},
  maxPositionals: 1,
  async run(ctx) {
    const record = recordOf(ctx, ctx.positionals[0]);
    const entry = ctx.config.providers.find((p) => p.config.id === record.adapter);
    if (!entry)
      throw new UsageError(`${record.id} has no configured adapter entry to probe (adapter: ${record.adapter ?? '-'})`);
    let report: ProbeReport;
    try {
      report = await probeProvider(ctx.config, entry);
    } catch (err) {
      if (!(err instanceof ProbeSetupError)) throw err;
      ctx.io.stderr(`providers probe: ${err.message}: nothing probed, nothing stored\n`);
      return EXIT_USAGE;
    }
    const stored = { at: report.at, ok: report.ok, report: report as unknown as Record<string, unknown> };
    const saved = await saveReport(ctx.config, record.id, 'probe', stored, ctx.io);
    emit(ctx, report, describeProbe(report));
    return report.ok && saved ? EXIT_OK : EXIT_FAILED;
  },
});
