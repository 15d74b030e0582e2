// `npm run test-eid -- URL` (test-op/main.ts) prints what a configuration needs to offer the test eID: the
// provider entry, and its joining record for a configuration with a registry (the demo's) or the inline
// block for one without. Each part, pasted as printed, passes `config check`.
import { pastesPassConfigCheck, runningTestPeer } from '../../test/support/test-peer-paste.ts';

const peer = runningTestPeer('providers/oidc/test-op/main.ts', async (dir) => [
  'http://localhost:3000',
  'test-eid',
  dir,
]);

pastesPassConfigCheck(peer, 'test-eid');
