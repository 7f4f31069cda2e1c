// Headless Chromium for the browser benchmarks (bench/infer.ts --browser, bench/vs-tfjs --browser):
// a Vite dev server on the repository (vite.config.ts, the demo pages) and Debian's chromium through
// puppeteer-core with WebGPU enabled (SwiftShader on this machine). One launcher, so both benches
// run the same browser with the same flags.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';

export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(d, 'vite.config.ts'))) {
    const up = dirname(d);
    if (up === d) throw new Error('bench --browser: cannot find vite.config.ts above ' + fileURLToPath(import.meta.url));
    d = up;
  }
  return d;
}

export interface BenchBrowser {
  browser: Browser;
  /** http://127.0.0.1:PORT of the dev server. */
  origin: string;
  /** A new page with its console and errors forwarded to `log`, at `path` (e.g. '/infer.html?x=1'). */
  open(path: string): Promise<Page>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Dependencies to pre-bundle before the page loads (a mid-run optimisation reloads the page). */
  optimizeDeps?: string[];
  /** Longest page.evaluate (protocol timeout), ms. */
  timeoutMs?: number;
  log?: (s: string) => void;
}

export async function launchBenchBrowser(o: LaunchOptions = {}): Promise<BenchBrowser> {
  const { default: puppeteer } = await import('puppeteer-core');
  const { createServer } = await import('vite');
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) throw new Error(`Chromium not found at ${chromium}: run scripts/setup-software-gpu.sh (installs Debian's chromium)`);
  const log = o.log ?? (() => undefined);
  const server = await createServer({
    configFile: resolve(repoRoot(), 'vite.config.ts'),
    // no file watching: an edit during a long run would reload the page and lose it
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: { ignored: ['**/*'] } },
    ...(o.optimizeDeps ? { optimizeDeps: { include: o.optimizeDeps } } : {}),
    logLevel: 'error',
  });
  await server.listen();
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      protocolTimeout: (o.timeoutMs ?? 3_600_000) + 60_000,
      args: [
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-dev-shm-usage',
        '--disable-background-timer-throttling',
        '--disable-renderer-backgrounding',
      ],
    });
  } catch (e) {
    await server.close();
    throw e;
  }
  const addr = server.httpServer!.address();
  if (!addr || typeof addr === 'string') {
    await browser.close().catch(() => undefined);
    await server.close();
    throw new Error('vite server has no address');
  }
  const origin = `http://127.0.0.1:${addr.port}`;
  return {
    browser,
    origin,
    async open(path) {
      const page = await browser.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') log(`[page error] ${m.text()}\n`);
        else log(`[page] ${m.text()}\n`);
      });
      page.on('pageerror', (e) => log(`[page error] ${String(e)}\n`));
      await page.goto(`${origin}${path}`, { waitUntil: 'load' });
      return page;
    },
    async close() {
      await browser.close().catch(() => undefined);
      await server.close();
    },
  };
}
