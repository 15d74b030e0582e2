// What a test login must show before a provider goes to production (VPM joining conditions: separate
// given name, surname and personal code fields; online two-factor authentication), judged from the ID
// token the gateway issued for it. The report names claims and checks, never their values: it goes
// into the audit log, which holds no personal data in plain text.
import { isLoa, loaSatisfies, type Loa } from '../../identity/loa.ts';
import { parsePersonalCode } from '../../identity/personal-code.ts';

export interface TestLoginCheck {
  check: 'names' | 'personal_code' | 'two_factor' | 'level' | 'auth_time' | 'signature';
  ok: boolean;
  detail: string;
}

export interface TestLoginReport {
  provider: string;
  at: string;
  ok: boolean;
  checks: TestLoginCheck[];
  /** the claims that came back (names only) */
  claims: string[];
}

export interface TestLoginEvidence {
  provider: string;
  /** the level the provider is registered for */
  loa: Loa;
  /** when the operator's login began (auth_time must not be older, less the skew) */
  startedAt: Date;
  claims: Record<string, unknown>;
  /** the ID token's JOSE header alg */
  idTokenAlg: string | undefined;
  /** algorithms the provider's entry sets (alg, hash, version fields) */
  providerAlgorithms: string[];
  now?: Date;
}

const SKEW_S = 60;
const STRONG_ID_TOKEN_ALGS = new Set(['PS256', 'ES256', 'RS256']);
const WEAK = /sha-?1|rs1|none|^008$/i;

const text = (value: unknown) => typeof value === 'string' && value.trim().length > 0;

export function judgeTestLogin(evidence: TestLoginEvidence): TestLoginReport {
  const { claims } = evidence;
  const now = evidence.now ?? new Date();
  const checks: TestLoginCheck[] = [];
  const names = text(claims.given_name) && text(claims.family_name);
  checks.push({
    check: 'names',
    ok: names,
    detail: names ? 'given_name and family_name in separate fields' : 'given_name or family_name missing',
  });
  let code = 'personal_code or personal_code_country missing';
  let codeOk = false;
  if (text(claims.personal_code) && text(claims.personal_code_country)) {
    try {
      parsePersonalCode(String(claims.personal_code_country), String(claims.personal_code));
      codeOk = true;
      code = `valid ${String(claims.personal_code_country)} personal code`;
    } catch {
      code = 'personal_code is not a valid personal code';
    }
  }
  checks.push({ check: 'personal_code', ok: codeOk, detail: code });
  const amr = Array.isArray(claims.amr) ? claims.amr.map(String) : [];
  const twoFactor = amr.length > 0 && !(amr.length === 1 && amr[0] === 'pwd');
  checks.push({
    check: 'two_factor',
    ok: twoFactor,
    detail: amr.length ? `amr: ${amr.join(', ')}` : 'no amr: the authentication method is not stated',
  });
  const acr = claims.acr;
  const level = isLoa(acr);
  checks.push({
    check: 'level',
    ok: level && loaSatisfies(acr, evidence.loa),
    detail: level ? `acr ${acr} (registered level ${evidence.loa})` : `acr ${JSON.stringify(acr)} is not a level`,
  });
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time * 1000 : Number.NaN;
  const fresh = authTime >= evidence.startedAt.getTime() - SKEW_S * 1000 && authTime <= now.getTime() + SKEW_S * 1000;
  checks.push({
    check: 'auth_time',
    ok: fresh,
    detail: Number.isNaN(authTime)
      ? 'no auth_time'
      : `${new Date(authTime).toISOString()} ${fresh ? 'within this test login' : 'outside this test login'}`,
  });
  const weak = evidence.providerAlgorithms.filter((alg) => WEAK.test(alg));
  const strongToken = STRONG_ID_TOKEN_ALGS.has(evidence.idTokenAlg ?? '');
  checks.push({
    check: 'signature',
    ok: strongToken && weak.length === 0,
    detail: `ID token ${evidence.idTokenAlg ?? 'unsigned'}; provider ${evidence.providerAlgorithms.join(', ') || 'sets no algorithm'}${weak.length ? ` (weak: ${weak.join(', ')})` : ''}`,
  });
  return {
    provider: evidence.provider,
    at: now.toISOString(),
    ok: checks.every((c) => c.ok),
    checks,
    claims: Object.keys(claims).sort(),
  };
}

/** The algorithm settings of a provider entry (fields named alg, algs, hash, digest, version). */
export function entryAlgorithms(entry: unknown): string[] {
  const found: string[] = [];
  const walk = (value: unknown, key: string): void => {
    if (typeof value === 'string' && /(^|_)(alg|algs|algorithm|hash|digest|version)$/.test(key)) found.push(value);
    else if (Array.isArray(value)) for (const v of value) walk(v, key);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(entry, '');
  return [...new Set(found)];
}
