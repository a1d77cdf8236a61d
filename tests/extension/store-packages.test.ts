// @vitest-environment node
// `npm run zip` as the README's Publishing section runs it: the packages the stores take, built for a
// production server into a folder of their own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GECKO_ID } from '@/protocol/extension-identity';

const PRODUCTION_SERVER = 'https://cars.example.org';
const { name, version } = JSON.parse(readFileSync('package.json', 'utf8')) as {
  name: string;
  version: string;
};

let outDir: string;

async function openZip(kind: 'chrome' | 'firefox' | 'sources'): Promise<JSZip> {
  return JSZip.loadAsync(readFileSync(zipFile(kind)));
}

function zipFile(kind: 'chrome' | 'firefox' | 'sources'): string {
  return path.join(outDir, `${name}-${version}-${kind}.zip`);
}

async function zippedManifest(kind: 'chrome' | 'firefox'): Promise<Record<string, unknown>> {
  const manifest = await (await openZip(kind)).file('manifest.json')?.async('string');
  if (manifest === undefined) throw new Error(`the ${kind} zip has no manifest.json`);
  return JSON.parse(manifest) as Record<string, unknown>;
}

beforeAll(() => {
  outDir = mkdtempSync(path.join(tmpdir(), 'car-connect-zip-'));
  execFileSync('npm', ['run', 'zip'], {
    env: { ...process.env, WXT_SERVER_URL: PRODUCTION_SERVER, WXT_OUT_DIR: outDir },
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 240_000,
  });
  for (const kind of ['chrome', 'firefox', 'sources'] as const) {
    console.log(`${kind} package: ${(statSync(zipFile(kind)).size / 1024).toFixed(1)} KB`);
  }
}, 240_000);

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe('npm run zip', () => {
  it('leaves the development key out of the Chrome package, which the store refuses, and keeps it unpacked', async () => {
    const packaged = await zippedManifest('chrome');
    expect(packaged).not.toHaveProperty('key');
    const unpacked = JSON.parse(readFileSync(path.join(outDir, 'chrome-mv3', 'manifest.json'), 'utf8')) as {
      key?: string;
    };
    expect(unpacked.key).toMatch(/^MIIB/);
  });

  it('asks a store build for its production server only', async () => {
    for (const browser of ['chrome', 'firefox'] as const) {
      const manifest = await zippedManifest(browser);
      expect(manifest.host_permissions, browser).toEqual([`${PRODUCTION_SERVER}/*`]);
      expect(manifest, browser).not.toHaveProperty('optional_host_permissions');
    }
  });

  it('fixes the add-on ID in the Firefox package', async () => {
    const manifest = (await zippedManifest('firefox')) as {
      browser_specific_settings?: { gecko?: { id?: string } };
    };
    expect(manifest.browser_specific_settings?.gecko?.id).toBe(GECKO_ID);
  });

  it("puts the pages' style sheets inside the pages, with no sheet left to load", async () => {
    for (const browser of ['chrome', 'firefox'] as const) {
      const zip = await openZip(browser);
      expect(
        Object.keys(zip.files).filter((file) => file.endsWith('.css')),
        browser,
      ).toEqual([]);
      for (const page of ['popup.html', 'options.html']) {
        const html = (await zip.file(page)?.async('string')) ?? '';
        expect(html, `${browser} ${page}`).not.toMatch(/<link[^>]+stylesheet/);
        expect(html, `${browser} ${page}`).toContain('<style>:root{color-scheme:light dark');
      }
    }
  });

  it('gives the reviewers the extension sources and nothing else', async () => {
    const files = Object.keys((await openZip('sources')).files);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'wxt.config.ts']));
    expect(files.some((file) => file.startsWith('entrypoints/'))).toBe(true);
    const outside = files.filter(
      (file) => /^(server|emulator|tests|bench|docs|data|node_modules)\//.test(file) || /(^|\/)\./.test(file),
    );
    expect(outside).toEqual([]);
  });
});
