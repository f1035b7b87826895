// The rendered site: `npm run docs` builds it with no warning (TypeDoc treats warnings as errors,
// undocumented exports included); every internal link of every page reaches an existing page and
// anchor; headless Chromium opens every page without a console error and the navigation it builds
// links to existing pages. The spec and the API pages fit a 390 px and a 1280 px screen (tables scroll in their
// own box), both kept as screenshots in the site with the spec's first page; the one search over
// API and documents finds a requirement identifier's document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { buildSync } from 'esbuild';

const SITE = 'docs/site';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

function pages(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return pages(path);
    return name.endsWith('.html') ? [path] : [];
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function serve(root: string): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    // Browsers ask for a favicon the site does not ship.
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
    const file = path.endsWith('/') ? join(path, 'index.html') : path;
    if (!file.startsWith(normalize(root)) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, {
        // Cached as any static host lets a browser cache it: assets load once, not on every page.
        'cache-control': 'max-age=3600',
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      })
      .end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({ server, base: `http://127.0.0.1:${port}/` });
    }),
  );
}

test('npm run docs builds the site without a warning', () => {
  execFileSync('npm', ['run', 'docs'], { stdio: 'pipe' });
  assert.ok(existsSync(join(SITE, 'index.html')));
  for (const page of [
    'XDP_Offload_for_virtio-net_(draft).html',
    'Traceability.html',
    'Command_line.html',
    'Vector_schemas.html',
    'Vector_format.html',
    'Architecture.html',
    'Companion__XDP_offload_to_a_Linux_tap_(proposed_uAPI).html',
  ])
    assert.ok(existsSync(join(SITE, 'documents', page)), page);
});

/** Where a link from a page leads: the file and the anchor, or undefined for external links. */
function resolveLink(page: string, href: string): { file: string; anchor: string } | undefined {
  if (/^[a-z]+:/i.test(href) || href.startsWith('//')) return undefined;
  const [path, anchor = ''] = href.split('#') as [string, string | undefined];
  const file = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
  return { file: file.endsWith('/') ? join(file, 'index.html') : file, anchor: decodeURIComponent(anchor) };
}

test('every internal link of every page reaches an existing page and anchor', () => {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    let set = anchorsOf.get(file);
    if (set === undefined) {
      set = new Set(
        [...readFileSync(file, 'utf8').matchAll(/\s(?:id|name)="([^"]+)"/g)].map((m) => m[1] as string),
      );
      anchorsOf.set(file, set);
    }
    return set;
  };
  const broken: string[] = [];
  let checked = 0;
  for (const page of pages(SITE)) {
    for (const m of readFileSync(page, 'utf8').matchAll(/\s(?:href|src)="([^"]*)"/g)) {
      const link = resolveLink(page, (m[1] as string).replace(/&amp;/g, '&'));
      if (link === undefined) continue;
      checked++;
      if (!existsSync(link.file)) broken.push(`${page}: ${m[1]} (no such file)`);
      else if (link.anchor !== '' && link.file.endsWith('.html') && !anchors(link.file).has(link.anchor))
        broken.push(`${page}: ${m[1]} (no such anchor)`);
    }
  }
  assert.deepEqual(broken.slice(0, 20), []);
  assert.ok(checked > 5000, `${checked} links checked`);
});

test(
  'every page renders in Chromium without console errors; the navigation links resolve',
  { timeout: 600_000 },
  async () => {
    const { server, base } = await serve(SITE);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const errors: string[] = [];
      const all = pages(SITE);
      assert.ok(all.length > 50, `${all.length} pages`);
      const queue = [...all];
      const visit = async () => {
        const tab = await browser.newPage();
        tab.on('console', (m) => {
          if (m.type() === 'error') errors.push(`${tab.url()}: ${m.text()}`);
        });
        tab.on('pageerror', (e) => errors.push(`${tab.url()}: ${e.message}`));
        for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
          const url = base + file.slice(SITE.length + 1);
          const response = await tab.goto(url, { waitUntil: 'load' });
          assert.equal(response?.status(), 200, url);
        }
        await tab.close();
      };
      await Promise.all([visit(), visit()]);
      assert.deepEqual(errors, []);
      // The navigation tree is built by script on every page alike: check its links once, in the DOM.
      const page = await browser.newPage();
      await page.goto(`${base}index.html`, { waitUntil: 'load' });
      const hrefs = await page.$$eval('a[href]', (as) =>
        as.map((a) => (a as unknown as { href: string }).href),
      );
      const local = hrefs.filter((h) => h.startsWith(base));
      assert.ok(local.length > 100, `${local.length} links in the rendered index`);
      for (const href of local) {
        const link = resolveLink(join(SITE, 'index.html'), href.slice(base.length));
        assert.ok(link !== undefined && existsSync(link.file), href);
      }
      // The spec's requirement anchors are reachable, and its first page is kept as a screenshot.
      await page.goto(`${base}documents/XDP_Offload_for_virtio-net_(draft).html#dev-reset`);
      assert.equal(await page.locator('li#dev-reset').count(), 1);
      await page.goto(`${base}documents/XDP_Offload_for_virtio-net_(draft).html`);
      mkdirSync(join(SITE, 'screenshots'), { recursive: true });
      const png = await page.screenshot({ path: join(SITE, 'screenshots', 'spec-first-page.png') });
      assert.ok(png.length > 10_000);
      // At a phone's width and a laptop's, the spec and the API pages fit the screen: wide tables
      // and long signatures scroll in their own box, the page itself never scrolls sideways. Each
      // is kept as a screenshot.
      const fits = [
        {
          name: 'spec-tables',
          url: 'documents/XDP_Offload_for_virtio-net_(draft).html#x6-capabilities-and-limits',
          shown: 'table',
        },
        { name: 'api-codec', url: 'modules/virtio-xdp-offload_codec.html', shown: '.tsd-panel' },
        {
          name: 'api-decode-result',
          url: 'functions/virtio-xdp-offload_codec.decodeResult.html',
          shown: '.tsd-signature',
        },
      ];
      for (const { name, url, shown } of fits) {
        for (const width of [390, 1280]) {
          await page.setViewportSize({ width, height: 844 });
          await page.goto(`${base}${url}`);
          // typedoc hides the body until its script shows the page (at most 500 ms): wait for it.
          await page.locator(shown).first().waitFor({ state: 'visible' });
          const overflow = await page.evaluate(() => {
            const root = (
              globalThis as unknown as {
                document: { documentElement: { scrollWidth: number; clientWidth: number } };
              }
            ).document.documentElement;
            return root.scrollWidth - root.clientWidth;
          });
          assert.ok(
            overflow <= 1,
            `${name} at ${width} px: the page is ${overflow} px wider than the screen`,
          );
          // Under load the first capture after a resize can come before the page is painted again
          // (a blank image of a few kB): take it again, three times at most.
          const path = join(SITE, 'screenshots', `${name}-${width}px.png`);
          let shot = await page.screenshot({ path });
          for (let tries = 1; tries < 3 && shot.length <= 10_000; tries++) {
            await page.waitForTimeout(1000);
            shot = await page.screenshot({ path });
          }
          assert.ok(shot.length > 10_000, `${name} at ${width} px: screenshot`);
        }
      }
      // One search over API and documents: a requirement identifier finds the document stating it.
      await page.setViewportSize({ width: 1280, height: 844 });
      await page.goto(`${base}index.html`, { waitUntil: 'load' });
      await page.click('#tsd-search-trigger');
      // Each identifier finds the document that states it among the first five results (the
      // search is the theme's: words of an identifier also match API names).
      for (const [id, document] of [
        ['dev-prog-contract', /XDP_Offload_for_virtio-net_\(draft\)\.html/],
        ['tun-ioctl-args', /Companion__XDP_offload_to_a_Linux_tap/],
      ] as const) {
        await page.fill('#tsd-search-input', id);
        // The theme updates the results a moment after the input changes, and the list still
        // holds the previous query's results until then: read it until it answers this query
        // (its first five name the document) or ten seconds pass.
        const top5 = () =>
          page.$$eval('#tsd-search-results li a', (as) =>
            as.slice(0, 5).map((a) => (a as unknown as { href: string }).href),
          );
        let hrefs = await top5();
        for (
          let waited = 0;
          waited < 10_000 && !hrefs.some((h) => document.test(decodeURIComponent(h)));
          waited += 100
        ) {
          await page.waitForTimeout(100);
          hrefs = await top5();
        }
        assert.ok(
          hrefs.some((h) => document.test(decodeURIComponent(h))),
          `${id}: ${hrefs.join(', ')}`,
        );
      }
    } finally {
      await browser.close();
      server.close();
    }
  },
);

test('the codec, engine and verifier entries bundle for the browser (no Node built-in) and run in Chromium', async () => {
  const root = resolve('.');
  const entry = `
    import { decodeRequest, parseHex } from '${root}/dist/codec/index.js';
    import { XdpEngine, assemble } from '${root}/dist/reference/ebpf/index.js';
    import { verify } from '${root}/dist/reference/verifier/index.js';
    const insns = assemble('mov %r0, 2\\nexit\\n');
    const engine = new XdpEngine();
    globalThis.result = {
      command: decodeRequest(parseHex('0a09')).command,
      accepted: verify(insns, { maps: new Map(), privileged: false }).accepted,
      action: engine.run(engine.load(insns), new Uint8Array(64)).action,
    };
  `;
  // platform 'browser' refuses node:fs and friends: a Node built-in in these entries fails here.
  const bundle = buildSync({
    stdin: { contents: entry, resolveDir: root },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
  }).outputFiles[0]?.text;
  assert.ok(bundle !== undefined && bundle.length > 10_000);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setContent('<!doctype html><title>bundle</title>');
    await page.addScriptTag({ content: bundle });
    const result = await page.evaluate(() => (globalThis as unknown as { result: unknown }).result);
    assert.deepEqual(errors, []);
    assert.deepEqual(result, { command: 'QUERY', accepted: true, action: 2 });
  } finally {
    await browser.close();
  }
});
