// Drives a real VS Code (code-server in Debian's Chromium, via playwright-core): opens a file,
// types, waits for inline-suggestion ghost text, screenshots it, accepts it with Tab.
// Usage: node vscode_driver.js URL FOLDER FILE SCREENSHOT; prints one JSON line with the outcome.
'use strict';

const { chromium } = require('playwright-core');

const [url, folder, file, screenshot] = process.argv.slice(2);
const norm = (s) => (s || '').replace(/\u00a0/g, ' ');

async function ghostText(page) {
  const parts = await page.locator('.ghost-text-decoration, .ghost-text').allTextContents();
  return norm(parts.join(''));
}

// the rendered text of the editor line that contains `needle` (ghost text included while shown)
async function lineWith(page, needle) {
  const texts = await page.locator('.monaco-editor .view-lines .view-line').allTextContents();
  return norm(texts.map(norm).find((t) => t.includes(needle)) || '');
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const out = { ok: false };
  try {
    await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`, { timeout: 180000 }); // a loaded machine is slow
    await page.locator('.monaco-workbench').waitFor({ timeout: 120000 });
    const row = page.locator('.monaco-list-row', { hasText: file }).first();
    await row.waitFor({ timeout: 60000 });
    await row.click();
    const editor = page.locator('.monaco-editor .view-lines').first();
    await editor.waitFor({ timeout: 60000 });
    await editor.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    // VS Code indents after the colon by itself
    const words = ['def perimeter(c', 'ircle', ': Circle) -> float:', 'Enter', 'return 2 * math', '.pi', ' * c'];
    let ghost = '';
    let typed = ''; // what was typed on the cursor line (VS Code adds the closers and the indent)
    for (const word of words) {
      if (word === 'Enter') {
        await page.keyboard.press('Enter');
        typed = '';
      } else {
        await page.keyboard.type(word, { delay: 40 });
        typed += word;
      }
      try {
        await page.locator('.ghost-text-decoration').first().waitFor({ timeout: 15000 });
        ghost = await ghostText(page);
        if (ghost.trim()) break;
      } catch (e) {
        // nothing suggested here: type on
      }
    }
    out.ghost = ghost;
    out.typed = typed;
    await page.screenshot({ path: screenshot });
    if (!ghost.trim()) throw new Error('no ghost text appeared');
    const first = ghost.split('\n')[0].trim();
    await page.keyboard.press('Tab');
    await page.waitForTimeout(1000);
    const after = norm(await editor.textContent());
    // the text is in the document and no longer a ghost decoration
    const stillGhost = await page.locator('.ghost-text-decoration', { hasText: first }).count();
    out.after = after.slice(-300);
    out.acceptedLine = await lineWith(page, typed.trim());
    // ghost text around a replaced closer renders in parts (": Circle", " -> float:"): compare
    // without the closers, which the accepted line has once
    const open = (t) => t.replace(/[)\]}"']/g, '');
    out.inserted = open(out.acceptedLine).includes(open(first)) && stillGhost === 0;
    out.statusBar = norm(await page.locator('.statusbar').textContent());
    out.ok = out.inserted;
  } catch (err) {
    out.error = String(err && err.stack || err);
    await page.screenshot({ path: screenshot }).catch(() => {});
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();
