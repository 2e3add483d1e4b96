// Renders the PNG app icons from public/icons/icon.svg with Chromium (run by hand after editing the SVG):
// npx vite-node -c vitest.config.ts packages/web/test/make-icons.ts
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './harness';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../public/icons');
const svg = readFileSync(path.join(dir, 'icon.svg'), 'utf8');
// Maskable: full-bleed background, the glyph inside the 80% safe zone.
const maskable = svg
  .replace('rx="112"', 'rx="0"')
  .replace(
    '<g transform="translate(22 -14)">',
    '<g transform="translate(51.2 51.2) scale(0.8)"><g transform="translate(22 -14)">',
  )
  .replace('</g>\n</svg>', '</g></g></svg>');
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  for (const [name, source, size] of [
    ['icon-192.png', svg, 192],
    ['icon-512.png', svg, 512],
    ['maskable-512.png', maskable, 512],
  ] as const) {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(
      `<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${source}`,
    );
    await page.screenshot({ path: path.join(dir, name), omitBackground: true });
  }
} finally {
  await browser.close();
}
