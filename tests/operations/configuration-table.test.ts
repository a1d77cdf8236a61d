// The README's configuration tables name every environment variable the server, the scripts, the
// emulator and the extension's build read, and nothing else.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_VARIABLES } from '../../server/config';

const root = path.resolve(import.meta.dirname, '../..');

/** `env.NAME`, `env['NAME']`, and a name handed to a reader with the environment (`number(env, 'NAME')`). */
const READS = [
  /\benv\.([A-Z][A-Z0-9_]+)/g,
  /\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g,
  /\benv, '([A-Z][A-Z0-9_]+)'/g,
];

async function sourceFiles(): Promise<string[]> {
  const files = ['wxt.config.ts'];
  for (const folder of ['server', 'scripts', 'emulator']) {
    const entries = await readdir(path.join(root, folder), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (entry.isFile() && entry.name.endsWith('.ts')) {
        files.push(path.relative(root, path.join(entry.parentPath, entry.name)));
      }
    }
  }
  return files;
}

async function variablesRead(): Promise<Set<string>> {
  const names = new Set(SERVER_VARIABLES);
  for (const file of await sourceFiles()) {
    const text = await readFile(path.join(root, file), 'utf8');
    for (const pattern of READS) for (const [, name] of text.matchAll(pattern)) names.add(name ?? '');
  }
  return names;
}

async function variablesDocumented(): Promise<Set<string>> {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const section = /\n## Configuration\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    const firstCell = /^\| ([^|]*)\|/.exec(line)?.[1] ?? '';
    for (const [, name] of firstCell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(name ?? '');
  }
  return names;
}

describe('the README configuration tables', () => {
  it('list every variable read, and only those', async () => {
    const [read, documented] = await Promise.all([variablesRead(), variablesDocumented()]);
    expect(SERVER_VARIABLES).toContain('TRUST_PROXY');
    expect(read).toContain('EMULATOR_LATENCY_SCALE');
    expect([...read].filter((name) => !documented.has(name)).sort()).toEqual([]);
    expect([...documented].filter((name) => !read.has(name)).sort()).toEqual([]);
  });
});
