// RP API v2 as the test peer speaks it (notification only): a SHA-512 hash to sign, the interactions as a
// plain array; sessions are polled and answered like v3 ones (./server.ts).
import type { Router } from 'express';
import { problem } from './control.ts';
import type { TestRpApi } from './server.ts';
import { newSessionId } from './sessions.ts';

export function v2Routes(api: TestRpApi, router: Router): void {
  // v2 (notification only): a SHA-512 hash to sign, the interactions as a plain array
  router.post('/v2/authentication/etsi/:id', (req, res) => {
    if (api.options.maintenance) return problem(res, 580, 'System is under maintenance');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const rp = api.options.relyingParties.find(
      (r) => r.uuid === body.relyingPartyUUID && r.name === body.relyingPartyName,
    );
    if (!rp) return problem(res, 401, 'Unauthorized');
    const hash = typeof body.hash === 'string' ? body.hash : '';
    const level = body.certificateLevel ?? 'QUALIFIED';
    const interactions = body.allowedInteractionsOrder;
    if (
      body.hashType !== 'SHA512' ||
      Buffer.from(hash, 'base64').length !== 64 ||
      !Array.isArray(interactions) ||
      interactions.length === 0 ||
      (level !== 'QUALIFIED' && level !== 'ADVANCED')
    )
      return problem(res, 400, 'Bad Request');
    const account = api.accounts.find((a) => a.semanticsIdentifier === req.params.id);
    if (!account) return problem(res, 404, 'Object not found');
    if (level === 'QUALIFIED' && account.level === 'ADVANCED') return problem(res, 471, 'No suitable account');
    const id = newSessionId();
    api.sessions.set(id, {
      id,
      account,
      relyingPartyName: rp.name,
      rpChallenge: '',
      v2Hash: hash,
      interactions: Buffer.from(JSON.stringify(interactions)).toString('base64'),
      hashAlgorithm: 'SHA-512',
      requestedLevel: level,
      certificateLevel: account.level ?? 'QUALIFIED',
      flowType: 'Notification',
      createdAt: Date.now(),
      waiters: [],
    });
    res.json({ sessionID: id });
  });
}
