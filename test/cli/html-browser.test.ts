/**
 * The HTML report in a real browser: Debian's chromium (installed by scripts/chromium-deps.sh when missing,
 * never skipped), headless, at a desktop and a phone width. It takes a screenshot at each width and checks the
 * text a person sees (innerText: what is rendered), that nothing overflows the page sideways, that no script
 * runs and nothing but the file itself is requested, with hostile names in the input.
 * GRACEKEEPER_HTML_SCREENSHOTS=<dir> keeps the page and the screenshots there.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import t from 'tap';
import { cli } from '../helpers/cli.js';
import { HOSTILE } from '../helpers/hostile-manifest.js';

const REPO = join(import.meta.dirname, '..', '..');
const WIDTHS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'narrow', width: 390, height: 844 },
] as const;

/** The chromium the project's script installs (or finds); a failure is a test failure with the reason. */
function chromiumPath(): string {
  try {
    const out = execFileSync('bash', [join(REPO, 'scripts', 'chromium-deps.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 });
    return out.trim().split('\n').at(-1)!;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`chromium is needed for the HTML report test and scripts/chromium-deps.sh could not provide it: ${err.stderr?.trim() || err.message}`);
  }
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  if (b.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error(`${file} is not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

t.setTimeout(1_200_000);

t.test('the HTML report in headless chromium', async (t) => {
  const executablePath = chromiumPath();
  const keep = process.env.GRACEKEEPER_HTML_SCREENSHOTS;
  const out = keep ?? mkdtempSync(join(tmpdir(), 'gk-html-'));
  mkdirSync(out, { recursive: true });
  if (!keep) t.teardown(() => rmSync(out, { recursive: true, force: true }));

  // The examples plus a namespace whose names are all markup.
  const hostileFile = join(out, 'hostile.yaml');
  writeFileSync(hostileFile, HOSTILE);
  const report = await cli(['audit', '--output', 'html', join(REPO, 'examples'), hostileFile]);
  t.equal(report.code, 1, 'the audit exits 1 (deny findings), as in text');
  const page = join(out, 'report.html');
  writeFileSync(page, report.stdout);
  const url = pathToFileURL(page).href;

  const userDataDir = mkdtempSync(join(tmpdir(), 'gk-chromium-'));
  t.teardown(() => rmSync(userDataDir, { recursive: true, force: true }));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 120_000,
  });
  t.teardown(() => browser.close());

  for (const size of WIDTHS) {
    await t.test(`${size.name} (${size.width}x${size.height}): the page reads as a report`, async (t) => {
      const tab = await browser.newPage();
      t.teardown(() => tab.close());
      const requests: string[] = [];
      const dialogs: string[] = [];
      tab.on('request', (r) => requests.push(r.url()));
      tab.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await tab.setViewportSize({ width: size.width, height: size.height });
      await tab.goto(url, { waitUntil: 'load' });

      const shot = join(out, `report-${size.name}.png`);
      await tab.screenshot({ path: shot });
      t.same(pngSize(shot), { width: size.width, height: size.height }, 'a screenshot of the viewport');
      await tab.screenshot({ path: join(out, `report-${size.name}-full.png`), fullPage: true });

      // What is on screen at the top: the title and the summary cards.
      // Page code goes in as text: the test's TypeScript has no DOM types.
      const top = (await tab.evaluate(`(() => {
        const visible = (el) => {
          const r = el.getBoundingClientRect();
          return r.bottom > 0 && r.top < window.innerHeight && r.width > 0 && r.height > 0;
        };
        return [...document.querySelectorAll('h1, .card')].filter(visible).map((el) => el.innerText.replace(/\\s+/g, ' '));
      })()`)) as string[];
      t.equal(top[0], 'Gracekeeper audit report', 'the title is in the first screen');
      t.ok(top.some((c) => /^\d+ deny findings$/.test(c)), `deny count in the first screen (${top.join(' | ')})`);
      t.ok(top.some((c) => /^\d+ warn findings$/.test(c)), 'warn count in the first screen');

      const text = await tab.innerText('body');
      for (const expected of [
        'Findings by rule',
        'What enforce would deny',
        'What mutation would change',
        'Namespace shop',
        "Namespace <script>alert('ns')</script>",
        '<img src=x onerror=alert(1)>',
        'rwo-volume-shared-by-replicas',
        "PVC 'uploads' is ReadWriteOnce",
        '/spec/template/spec/volumes/0/persistentVolumeClaim/claimName',
        'examples/uploads/uploads.yaml:',
        'fixed by the patch',
      ]) {
        t.ok(text.includes(expected), `on the page: ${expected}`);
      }
      t.match(text, /@@ spec\.template\.spec line \d+ \(as given\) \/ \d+ \(as fixed\) @@/, 'a diff hunk');
      t.match(text, /^\+ +lifecycle:$/m, 'an added line of a fix');

      const layout = (await tab.evaluate(`(() => {
        const el = document.querySelector('.diff .add');
        const r = el && el.getBoundingClientRect();
        return {
          scrollWidth: document.documentElement.scrollWidth,
          scripts: document.scripts.length,
          images: document.images.length,
          diffVisible: !!r && r.width > 0 && r.height > 0 && getComputedStyle(el).visibility === 'visible',
        };
      })()`)) as { scrollWidth: number; scripts: number; images: number; diffVisible: boolean };
      t.ok(layout.scrollWidth <= size.width, `no sideways scrolling of the page (content ${layout.scrollWidth}px, window ${size.width}px)`);
      t.equal(layout.scripts, 0, 'no script element');
      t.equal(layout.images, 0, 'no image element');
      t.ok(layout.diffVisible, 'diff lines are rendered');
      t.same(dialogs, [], 'no script ran (no alert)');
      t.same(requests, [url], 'only the file itself was loaded');
      t.comment(`screenshot: ${shot}`);
    });
  }
});
