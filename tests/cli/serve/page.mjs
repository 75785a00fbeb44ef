// The chat page at / in a real browser (Debian's chromium driven by puppeteer-core): type a message, see the
// reply stream in and the token × layer routing strip appear; the policy picker's choice reaches the request.
// Usage: node page.mjs NODE_MODULES_DIR CHROMIUM BASE_URL
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [modulesDir, chromium, baseURL] = process.argv.slice(2);
const require = createRequire(path.join(modulesDir, 'package.json'));
const puppeteer = require('puppeteer-core');

let failures = 0;
function check(cond, what) {
  if (cond) { console.log(`ok   ${what}`); } else { console.log(`FAIL ${what}`); failures++; }
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-page-'));
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  userDataDir: profile,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
  timeout: 60000,
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(60000);
  const external = [];
  const bodies = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(baseURL)) external.push(r.url());
    if (r.url().endsWith('/v1/chat/completions')) bodies.push(JSON.parse(r.postData()));
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(baseURL + '/', { waitUntil: 'load' });
  await page.waitForFunction(() => document.getElementById('model').textContent.length > 0);
  check(true, 'the page loads and shows the model');

  await page.select('#policy', 'top-k:1');
  await page.type('#input', 'Hello, who are you?');
  await page.click('#send');
  // The reply streams: text grows while the strip gains columns, until the stream says it is done.
  await page.waitForFunction(() => document.querySelector('.msg.assistant .strip .col') !== null);
  await page.waitForFunction(() => document.querySelector('.msg.assistant[data-done], .msg.error[data-done]') !== null);
  const r = await page.evaluate(() => {
    const m = document.querySelector('.msg.assistant');
    const cols = [...m.querySelectorAll('.strip .col')];
    return {
      done: m.dataset.done,
      text: m.querySelector('.text').textContent,
      cols: cols.length,
      cells: cols.map((c) => c.querySelectorAll('.cell').length),
      tip: cols.length ? cols[0].querySelector('.cell').dataset.tip : '',
      legend: m.querySelector('.strip-legend').textContent,
    };
  });
  check(r.done === 'stop' || r.done === 'length', `the reply finished (${r.done})`);
  check(r.text.length > 0, `the reply text streamed: ${JSON.stringify(r.text.slice(0, 60))}`);
  check(r.cols > 0 && r.cells.every((n) => n === r.cells[0] && n > 0),
        `routing strip: ${r.cols} tokens × ${r.cells[0]} layers`);
  check(/expert \d+: 1\.000/.test(r.tip) && !/\n.*\n.*expert/.test(r.tip), `top-k:1 shows one expert per cell: ${JSON.stringify(r.tip)}`);
  check(r.legend.includes('top-k:1'), `legend names the policy: ${r.legend}`);
  check(bodies.length === 1 && bodies[0].routing && bodies[0].routing.policy === 'top-k:1' && bodies[0].stream === true,
        'the policy picker sends routing.policy');

  // Hovering a cell shows its weights.
  const cell = await page.$('.msg.assistant .strip .col .cell');
  await cell.hover();
  const tip = await page.evaluate(() => ({ shown: getComputedStyle(document.getElementById('tip')).display,
                                            text: document.getElementById('tip').textContent }));
  check(tip.shown === 'block' && tip.text.includes('expert'), 'hover shows the weights');

  // A second turn carries the history (and the server reuses its prefix).
  await page.select('#policy', '');
  await page.type('#input', 'And again?');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant[data-done]').length === 2);
  check(bodies.length === 2 && bodies[1].messages.length === 3 && !('policy' in bodies[1].routing),
        'second turn sends the conversation, server routing');
  check(external.length === 0, `nothing loaded from the network (${external.join(', ')})`);
  check(errors.length === 0, `no page errors ${errors.join('; ')}`);
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(failures === 0 ? 'page: all passed' : `page: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
