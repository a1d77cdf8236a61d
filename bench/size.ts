// Figure 1: what the popup page and the background script weigh, gzipped, in the production build.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PRODUCTION_DIR } from './lib/build';
import type { Figure } from './lib/report';
import { kb } from './lib/stats';

const POPUP_TARGET = 18 * 1024;
const BACKGROUND_TARGET = 10 * 1024;

const gzipSize = (content: Buffer) => gzipSync(content, { level: 9 }).length;

/** Static imports in Vite's minified output: `import"./x.js"`, `import{a}from"./x.js"`, `export*from"./x.js"`. */
const STATIC_IMPORT = /(?:^|[;}\s])(?:import|export)\s*(?:[\w*{}\s,$]+?\s*from\s*)?["']([^"']+\.js)["']/g;

/** A file and every file its static imports pull in (dynamic imports load later, so they are not counted). */
async function withImports(root: string, file: string, seen = new Set<string>()): Promise<Set<string>> {
  if (seen.has(file)) return seen;
  seen.add(file);
  if (file.endsWith('.js')) {
    const code = await readFile(path.join(root, file), 'utf8');
    for (const [, specifier] of code.matchAll(STATIC_IMPORT)) {
      if (specifier) await withImports(root, resolve(file, specifier), seen);
    }
  }
  return seen;
}

/** Extension pages resolve `/x` from the package root and `./x` from the importing file. */
const resolve = (from: string, specifier: string) =>
  specifier.startsWith('/')
    ? specifier.slice(1)
    : path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));

/** The scripts and style sheets popup.html loads, with their imports. */
async function popupFiles(root: string): Promise<string[]> {
  const html = await readFile(path.join(root, 'popup.html'), 'utf8');
  const files = new Set<string>(['popup.html']);
  for (const [, src] of html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"/g)) {
    if (src && !/^[a-z]+:/i.test(src)) await withImports(root, resolve('popup.html', src), files);
  }
  return [...files];
}

async function totalGzip(root: string, files: string[]): Promise<{ raw: number; gzip: number }> {
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    const content = await readFile(path.join(root, file));
    raw += content.length;
    gzip += gzipSize(content);
  }
  return { raw, gzip };
}

async function allFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

export async function size(): Promise<Figure> {
  const root = path.resolve(PRODUCTION_DIR);
  const popup = await popupFiles(root);
  const background = [...(await withImports(root, 'background.js'))];
  const everything = await allFiles(root);
  const [popupSize, backgroundSize, wholeSize] = await Promise.all([
    totalGzip(root, popup),
    totalGzip(root, background),
    totalGzip(root, everything),
  ]);
  let onDisk = 0;
  for (const file of everything) onDisk += (await stat(path.join(root, file))).size;

  return {
    title: '1. Size (production build, gzip -9 per file)',
    rows: [
      {
        measure: 'popup page (HTML + JS + CSS it loads)',
        value: `${kb(popupSize.gzip)} gzip (${kb(popupSize.raw)} raw)`,
        target: `<= ${kb(POPUP_TARGET)}`,
        met: popupSize.gzip <= POPUP_TARGET,
      },
      {
        measure: 'background script',
        value: `${kb(backgroundSize.gzip)} gzip (${kb(backgroundSize.raw)} raw)`,
        target: `<= ${kb(BACKGROUND_TARGET)}`,
        met: backgroundSize.gzip <= BACKGROUND_TARGET,
      },
      {
        measure: `whole ${PRODUCTION_DIR} (${everything.length} files)`,
        value: `${kb(wholeSize.gzip)} gzip (${kb(onDisk)} on disk)`,
      },
    ],
    notes: [`Popup files: ${popup.join(', ')}. Background files: ${background.join(', ')}.`],
  };
}
