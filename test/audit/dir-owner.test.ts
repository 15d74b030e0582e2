// An audit directory, or a file in it, that belongs to another local account: that account may change it
// (its owner may always chmod it writable), so the start is refused, naming the path and the owner. Giving
// another user a file needs root: without it these tests are skipped, saying why.
import { chownSync } from 'node:fs';
import { closedLog, refusal } from './helpers.ts';

const asRoot = process.getuid?.() === 0;
const rootTest = asRoot ? test : test.skip;
const skipped = asRoot ? '' : ' (skipped: giving a file to another user needs root)';
/** an account that is neither root nor the gateway's */
const OTHER = 4242;

rootTest(
  `the directory owned by another account (mode 0700 notwithstanding): refused, naming it${skipped}`,
  async () => {
    const { t } = await closedLog();
    chownSync(t.dir, OTHER, 0);
    expect(await refusal(t)).toBe(
      `audit log refused (audit.dir ${t.dir}): ${t.dir} belongs to uid ${OTHER}, neither the gateway's user (uid 0) nor root: chown 0`,
    );
  },
);

rootTest(`a segment owned by another account: refused, naming it; given back, the log opens${skipped}`, async () => {
  const { t, segment } = await closedLog();
  chownSync(segment, OTHER, OTHER);
  expect(await refusal(t)).toContain(`${segment} belongs to uid ${OTHER}, neither the gateway's user`);
  chownSync(segment, 0, 0);
  // another account's group may own it (a volume mounted for the service's group): not refused
  chownSync(t.dir, 0, OTHER);
  expect(await refusal(t)).toBe('opened');
});
