// `npm run bench`: measures every figure of the benchmark issue on this machine, prints each
// table as it is done and writes them all to bench/results.md. `npm run bench -- size throughput`
// runs only those figures and writes nothing. Figures are reported, never asserted.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { format } from 'prettier';
import { connectFlow } from './connect-flow';
import { footprint } from './footprint';
import { monthOfUse } from './month-of-use';
import { buildE2eExtension, buildProduction } from './lib/build';
import { describeMachine, machineLines } from './lib/machine';
import { printFigure, toMarkdown, type Figure } from './lib/report';
import { popupPaint } from './popup-paint';
import { size } from './size';
import { throughput } from './throughput';
import { upstreamCalls } from './upstream-calls';

interface Bench {
  name: string;
  /** Which extension build it loads, built once before the first bench that needs it. */
  build?: 'production' | 'e2e';
  run: () => Promise<Figure>;
}

const BENCHES: Bench[] = [
  { name: 'size', build: 'production', run: size },
  { name: 'popup-paint', build: 'e2e', run: popupPaint },
  { name: 'connect-flow', build: 'e2e', run: connectFlow },
  { name: 'upstream-calls', run: upstreamCalls },
  { name: 'throughput', run: throughput },
  { name: 'footprint', run: footprint },
  { name: 'month-of-use', run: monthOfUse },
];

const BUILDERS = { production: buildProduction, e2e: buildE2eExtension };

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !BENCHES.some((bench) => bench.name === name));
if (unknown.length)
  throw new Error(`Unknown bench: ${unknown.join(', ')}. Known: ${BENCHES.map((b) => b.name).join(', ')}`);
const selected = wanted.length ? BENCHES.filter((bench) => wanted.includes(bench.name)) : BENCHES;

const started = performance.now();
const machine = describeMachine();
console.log(machine);

const built = new Set<string>();
const figures: Figure[] = [];
for (const bench of selected) {
  if (bench.build && !built.has(bench.build)) {
    console.log(`\nBuilding the ${bench.build} extension...`);
    BUILDERS[bench.build]();
    built.add(bench.build);
  }
  console.log(`\nRunning ${bench.name}...`);
  const figure = await bench.run();
  printFigure(figure);
  figures.push(figure);
}

const minutes = ((performance.now() - started) / 60_000).toFixed(1);
console.log(`\nAll done in ${minutes} min.`);

if (!wanted.length) {
  const header = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); figures from one run on this machine. Benchmarks report, they never fail on time.',
    '',
    ...machineLines(machine),
    `- Whole run: ${minutes} min`,
    '- Mutation scores (`npm run mutation`): [mutation.md](mutation.md)',
  ].join('\n');
  const file = path.resolve('bench/results.md');
  // Formatted as `npm run check` expects, so a fresh results file never fails the check.
  const markdown = await format([header, ...figures.map(toMarkdown)].join('\n\n'), { parser: 'markdown' });
  await writeFile(file, markdown);
  console.log(`Wrote ${file}`);
}

// A back end that failed to start can leave its emulator listening; do not wait on it.
process.exit(0);
