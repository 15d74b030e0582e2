// Answers to a session's poll that never end, for the tests of the gateway's deadline and size limit on
// RP API calls (accounts.ts: `drip_poll`, `flood_poll`).
import type { Response } from 'express';

/** An answer that never ends: a byte at once and another every second. */
export function drip(res: Response): void {
  res.status(200).type('json').write('{');
  const timer = setInterval(() => res.write(' '), 1000);
  res.on('close', () => clearInterval(timer));
}

/** An answer that never ends and is never short of bytes: 64 KiB of whitespace whenever the socket drains. */
export function flood(res: Response): void {
  const chunk = Buffer.alloc(64 * 1024, ' ');
  res.status(200).type('json').write('{');
  const more = () => {
    while (!res.destroyed && res.write(chunk));
  };
  res.on('drain', more);
  more();
}
