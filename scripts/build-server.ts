// `npm run build:server`: the server and `reencrypt` as plain JavaScript in dist/server, so a
// production machine runs them with `node` and needs only the `dependencies`, which stay imports.
import { cpSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = 'dist/server';

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: ['server/main.ts', 'server/reencrypt.ts'],
  outdir,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
});
// The migrator reads its SQL files at run time from beside the code (see server/db/index.ts).
cpSync('server/db/migrations', `${outdir}/migrations`, { recursive: true });
console.log(`Built ${outdir}/main.js and ${outdir}/reencrypt.js; run with node --enable-source-maps.`);
