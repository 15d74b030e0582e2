// Browser tests drive Debian's Chromium (.ci/run installs the `chromium` package) through playwright-core:
// a real browser running the pages' CSS, scripts and Content-Security-Policy. A missing Chromium fails
// the tests, saying how to install it: CI must never pass without having run them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const require = createRequire(import.meta.url);

/** Where the test run saves screenshots (git-ignored under var/). */
export const SCREENSHOTS = join(import.meta.dirname, '../../var/screenshots');

function chromiumPath(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser'])
    if (existsSync(candidate)) return candidate;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      "Chromium not found: the browser tests need Debian's chromium (apt-get install chromium, as .ci/run does) or CHROMIUM_PATH",
    );
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    // Chromium's sandbox refuses to run as root (containers, CI)
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** Everything a page reported that a citizen's browser would show as a problem. */
export interface PageProblems {
  console: string[];
  failedRequests: string[];
  /** requests to any origin but the gateway's */
  foreignRequests: string[];
}

/** A fresh context (cookies of its own) whose page records console errors, failed and third-party requests. */
export async function openPage(
  browser: Browser,
  origin: string,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await browser.newContext({ locale: 'lv-LV', ...options });
  const page = await context.newPage();
  const problems: PageProblems = { console: [], failedRequests: [], foreignRequests: [] };
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    // an error page's own 4xx status is intended (the response handler below catches failing subresources)
    if (message.text().startsWith('Failed to load resource') && message.location().url === page.url()) return;
    problems.console.push(message.text());
  });
  page.on('pageerror', (err) => problems.console.push(err.message));
  // a request the next navigation cancelled (net::ERR_ABORTED) is no failure; refusals come as responses
  page.on('requestfailed', (request) => {
    if (request.failure()?.errorText !== 'net::ERR_ABORTED')
      problems.failedRequests.push(`${request.failure()?.errorText} ${request.url()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && response.request().resourceType() !== 'document')
      problems.failedRequests.push(`${response.status()} ${response.url()}`);
  });
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin !== origin && url.protocol !== 'data:') problems.foreignRequests.push(request.url());
  });
  return { context, page, problems };
}

let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's WCAG 2.1 A and AA rules, plus its best practices (landmarks, regions), on the page as it is now. */
export async function axeViolations(page: Page): Promise<{ id: string; help: string; targets: string[] }[]> {
  // evaluated through the DevTools protocol: the page's own CSP (no inline scripts) stays as it is
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(tags)} } }).then((r) => r.violations)`,
  )) as AxeViolation[];
  return violations.map((v) => ({ id: v.id, help: v.help, targets: v.nodes.flatMap((n) => n.target) }));
}

/** A screenshot under var/screenshots, for people to look at after the run. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Whether the page scrolls sideways (WCAG 2.1 1.4.10 Reflow: none at 320 CSS pixels). */
export function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(
    'document.documentElement.scrollWidth > document.documentElement.clientWidth',
  ) as Promise<boolean>;
}
