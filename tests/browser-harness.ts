// Starts a Vite server for demo/ on 127.0.0.1 and Debian's Chromium through puppeteer-core.
// Fails (never skips) when Chromium is missing: CI installs it with scripts/setup-software-gpu.sh.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createServer, type ViteDevServer } from 'vite';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export interface Harness {
  server: ViteDevServer;
  browser: Browser;
  base: string;
  close(): Promise<void>;
}

export async function startHarness(extraFlags: string[] = []): Promise<Harness> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/setup-software-gpu.sh (installs Debian's chromium)`);
  }
  const server = await createServer({
    configFile: resolve(import.meta.dirname, '../vite.config.ts'),
    server: { host: '127.0.0.1', port: 0, strictPort: false },
    logLevel: 'error',
  });
  await server.listen();
  const addr = server.httpServer!.address();
  if (!addr || typeof addr === 'string') throw new Error('vite server has no address');
  const base = `http://127.0.0.1:${addr.port}`;
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraFlags],
    userDataDir: undefined,
  });
  return {
    server,
    browser,
    base,
    async close() {
      await browser.close().catch(() => undefined);
      await server.close();
    },
  };
}

/** Opens `path`, collecting console errors and page errors (viewport: CSS pixels, e.g. for screenshots). */
export async function openPage(
  h: Harness,
  path: string,
  opts: { viewport?: { width: number; height: number } } = {},
): Promise<{ page: Page; errors: string[] }> {
  const page = await h.browser.newPage();
  if (opts.viewport) await page.setViewport(opts.viewport);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(h.base + path, { waitUntil: 'load' });
  return { page, errors };
}

/**
 * A second Chromium on the same server with other flags, e.g. without --enable-unsafe-webgpu
 * (`flags` replaces CHROMIUM_FLAGS). Close it yourself.
 */
export async function launchChromium(flags: string[]): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/setup-software-gpu.sh (installs Debian's chromium)`);
  }
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: flags });
}

/** Waits until `cond` (run in the page) is true, polling every `pollMs`; the error names `what` and the last value of `describe`. */
export async function waitInPage(page: Page, cond: string, what: string, timeoutMs: number, describe = 'null'): Promise<void> {
  try {
    await page.waitForFunction(cond, { timeout: timeoutMs, polling: 200 });
  } catch (e) {
    const state = await page.evaluate(describe).catch(() => undefined);
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${(e as Error).message}); page state: ${JSON.stringify(state)}`);
  }
}
