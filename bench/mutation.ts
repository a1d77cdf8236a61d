// `npm run mutation`: runs Stryker over the modules where a silent break would hurt most (see
// stryker.config.js), then writes bench/mutation.md from its JSON report.
// `npm run mutation -- --vault` also runs the token vault's mutants against its rule-by-rule suite
// (stryker.vault.config.js), 30 to 45 minutes on a two-core machine: many mutants of its
// waits end only at the time limit.
// `npm run mutation -- --report-only` rewrites bench/mutation.md from the last run.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { format } from 'prettier';
import { describeMachine, type Machine } from './lib/machine';

interface Run {
  name: string;
  configFile: string;
  /** Where the config's jsonReporter writes. */
  report: string;
  /** Run only when asked for with this flag. */
  flag?: string;
}

const RUNS: Run[] = [
  {
    name: 'security checks and mappings',
    configFile: 'stryker.config.js',
    report: 'reports/mutation/mutation.json',
  },
  {
    name: 'token vault',
    configFile: 'stryker.vault.config.js',
    report: 'reports/mutation/vault/mutation.json',
    flag: '--vault',
  },
];
const RUN_INFO = 'reports/mutation/run.json';
const OUTPUT = 'bench/mutation.md';

/** Where a break would open a hole rather than give a wrong answer: the goal there is no survivor. */
const SECURITY_CHECKS: Record<string, string> = {
  'server/vault/cipher.ts': 'encryption',
  'server/sessions.ts': 'session lookup',
  'server/routes/vehicle-routes.ts': 'session lookup',
  'server/connect-states.ts': 'state binding',
  'protocol/extension-identity.ts': 'redirect allow-list',
  'server/config.ts': 'redirect allow-list',
  'server/app.ts': 'origin check',
};

/** Why the token vault's survivors below cannot matter; several mutants share a reason. */
const VAULT_REASONS = {
  margin:
    'Differs only when the two times are equal to the millisecond; the margins and waits are seconds and minutes, not promises to the millisecond.',
  renewalHolds:
    "Read only when the renewal sweep could not take a connection's lease. When its refresh token no longer needs renewing (another process renewed it), the mutant waits for the lease until it gives up, then answers what the original answers at once: the stored, fresh token.",
  reencryptedMeanwhile:
    'Only a row that another re-encryption run moved to the current key between the query and this transaction gets here; sealing it again under the current key changes only its IV.',
  oneClock:
    "Redundant with `retryIn <= 0` on one clock: a lease can be taken only once the back-off is over (it is part of the lease's condition) and every write of a back-off also ends the lease, so while any lease is recorded no back-off runs; `leased` is for processes whose clocks differ.",
  afterGivingUp:
    'Reached with no back-off only after the request gave up waiting for a lease; the mutant then looks at the row up to three more times without waiting, and answers the same.',
  afterThreeTries:
    "Reached with three tries done only when other processes set a new short back-off each time this request waited for one; the mutant then waits for the next one too, and the attempt path's own limit still allows it at most one token call more.",
  beforeRead:
    '`before` is read from the same row just before the lease is taken; without a row no lease is taken and this line is not reached.',
  failedKind: 'The refresh loop treats every attempt that is neither a token nor a reconnect as failed.',
  savedRead: 'Reads back the pair it just stored: the same token, one query more.',
};

/** A token vault survivor; `original`, when given, is the mutated text itself, where the line has several alike. */
const vaultSurvivor = (
  mutator: string,
  replacement: string,
  line: string,
  why: string,
  original?: string,
) => ({
  file: 'server/vault/token-vault.ts',
  mutator,
  replacement,
  line,
  why,
  ...(original ? { original } : {}),
});

/**
 * Survivors that cannot change what anyone observes, with the reason. Matched by file, mutator,
 * replacement and a piece of the mutated line (and, where needed, the mutated text), so they
 * follow the code when lines move.
 */
const EQUIVALENT: {
  file: string;
  mutator: string;
  replacement: string;
  line: string;
  /** The mutated text itself, where the line holds several mutants with the same replacement. */
  original?: string;
  why: string;
}[] = [
  {
    file: 'server/vault/cipher.ts',
    mutator: 'ArrayDeclaration',
    replacement: '["Stryker was here"]',
    line: 'oldKeys: Buffer[] = []',
    why: 'The default applies only when no old keys are passed; the extra entry is a string, not a 32-byte key, under an id no stored row carries, so it can neither open nor seal anything.',
  },
  {
    file: 'server/vault/cipher.ts',
    mutator: 'StringLiteral',
    replacement: '""',
    line: 'cipher.update(plaintext',
    why: 'Node reads a string with an empty encoding name as UTF-8, its default, so the sealed bytes are the same (the round trip of a non-ASCII token checks it).',
  },
  {
    file: 'server/vault/cipher.ts',
    mutator: 'MethodExpression',
    replacement: "readFileSync(file, 'utf8')",
    line: '.trim()',
    why: "Node's base64 decoder skips whitespace, so the key file reads the same with or without its trailing newline (a test checks the outcome).",
  },
  {
    file: 'server/vault/cipher.ts',
    mutator: 'ObjectLiteral',
    replacement: '{}',
    line: "flag: 'wx'",
    why: 'Not equivalent, but only a race can show it: the file is made owner-only right after anyway (a test checks the mode), and `wx` matters only when another process writes the key between the existence check and this write.',
  },
  {
    file: 'server/vault/cipher.ts',
    mutator: 'StringLiteral',
    replacement: '""',
    line: "flag: 'wx'",
    why: 'Node reads an empty flag as `w`; the difference from `wx` shows only in the race described above.',
  },
  ...(['this.lifetime.idleMs', 'this.lifetime.maxMs', 'SESSION_RENEWAL_MS'] as const).map((limit) => ({
    file: 'server/sessions.ts',
    mutator: 'EqualityOperator',
    replacement: `now - session.${limit === 'this.lifetime.maxMs' ? 'createdAt' : 'lastUsedAt'}.getTime() > ${limit}`,
    line: `>= ${limit}`,
    why: 'Differs only when the age is the limit to the millisecond; the limits are days and an hour, not a promise to the millisecond (the tests check a minute either side).',
  })),
  {
    file: 'server/api-errors.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: "type === 'BILLING') {",
    why: "Smartcar's 430 always comes with the type BILLING, which the other half of the condition catches (https://smartcar.com/docs/help/api-limits).",
  },
  {
    file: 'server/api-errors.ts',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    line: "type === 'UPSTREAM' && code === 'RATE_LIMIT'",
    why: 'Smartcar uses the code RATE_LIMIT only under the type UPSTREAM; its own limits are the type RATE_LIMIT with the codes VEHICLE and SMARTCAR_API (https://smartcar.com/docs/help/api-limits).',
  },
  {
    file: 'server/api-errors.ts',
    mutator: 'ConditionalExpression',
    replacement: 'true',
    line: "return type === 'RATE_LIMIT' && code === 'VEHICLE'",
    why: 'A 429 with the code VEHICLE comes only with the type RATE_LIMIT (same page).',
  },
  {
    file: 'server/config.ts',
    mutator: 'StringLiteral',
    replacement: '"Stryker was here!"',
    line: "(value ?? '')",
    why: 'With nothing set, the list becomes one made-up extension ID with spaces and capitals; Chrome and Firefox IDs cannot contain them, so no extension can use the redirect URL it would allow.',
  },
  {
    file: 'emulator/store.ts',
    mutator: 'EqualityOperator',
    replacement: 'code.expiresAt >= now',
    line: '!code.used && code.expiresAt > now',
    why: 'Keeps in the state file a code expiring in this very millisecond; its expiry is checked again when it is used.',
  },
  {
    file: 'server/sessions.ts',
    mutator: 'ConditionalExpression',
    replacement: 'false',
    line: 'if (!user)',
    why: '`insert … returning` yields the inserted row or throws, so the guard for a missing row never runs.',
  },
  {
    file: 'server/sessions.ts',
    mutator: 'StringLiteral',
    replacement: '""',
    line: 'Inserting a user returned no row.',
    why: 'The message of the guard above, which never runs.',
  },
  {
    file: 'utils/connect-redirect.ts',
    mutator: 'StringLiteral',
    replacement: '"Stryker was here!"',
    line: "?? ''",
    why: 'Any scope text without a `required:` entry gives the same empty list as no scope at all.',
  },
  vaultSurvivor(
    'EqualityOperator',
    'row.accessExpiresAt.getTime() - now.getTime() < REFRESH_MARGIN_MS',
    '<= REFRESH_MARGIN_MS',
    VAULT_REASONS.margin,
  ),
  vaultSurvivor(
    'ConditionalExpression',
    'true',
    '<= REFRESH_TOKEN_RENEWAL_MARGIN_MS',
    VAULT_REASONS.renewalHolds,
  ),
  vaultSurvivor(
    'EqualityOperator',
    'row.refreshExpiresAt.getTime() - now.getTime() < REFRESH_TOKEN_RENEWAL_MARGIN_MS',
    '<= REFRESH_TOKEN_RENEWAL_MARGIN_MS',
    VAULT_REASONS.margin,
  ),
  vaultSurvivor(
    'ConditionalExpression',
    'false',
    'if (!row || row.keyId',
    VAULT_REASONS.reencryptedMeanwhile,
    'row.keyId === this.cipher.currentKeyId',
  ),
  vaultSurvivor(
    'EqualityOperator',
    'attempt.row.accessExpiresAt.getTime() >= Date.now()',
    'attempt.row.accessExpiresAt.getTime() > Date.now()',
    VAULT_REASONS.margin,
  ),
  ...(
    [
      ['ConditionalExpression', 'false', undefined],
      ['ConditionalExpression', 'true', 'row.refreshLeaseUntil !== null'],
      ['ConditionalExpression', 'true', 'row.refreshLeaseUntil > now'],
      ['LogicalOperator', 'row.refreshLeaseUntil !== null || row.refreshLeaseUntil > now', undefined],
      ['EqualityOperator', 'row.refreshLeaseUntil === null', undefined],
      ['EqualityOperator', 'row.refreshLeaseUntil >= now', undefined],
      ['EqualityOperator', 'row.refreshLeaseUntil <= now', undefined],
    ] as const
  ).map(([mutator, replacement, original]) =>
    vaultSurvivor(mutator, replacement, 'const leased =', VAULT_REASONS.oneClock, original),
  ),
  vaultSurvivor('EqualityOperator', 'retryIn < 0', '(leased || retryIn <= 0)', VAULT_REASONS.margin),
  vaultSurvivor('EqualityOperator', 'Date.now() <= giveUpAt', 'Date.now() < giveUpAt', VAULT_REASONS.margin),
  vaultSurvivor(
    'ConditionalExpression',
    'true',
    'if (retryIn > 0 &&',
    VAULT_REASONS.afterGivingUp,
    'retryIn > 0',
  ),
  vaultSurvivor(
    'ConditionalExpression',
    'true',
    'if (retryIn > 0 &&',
    VAULT_REASONS.afterThreeTries,
    'tries < TRIES_PER_REQUEST',
  ),
  vaultSurvivor(
    'EqualityOperator',
    'tries <= TRIES_PER_REQUEST',
    'if (retryIn > 0 &&',
    VAULT_REASONS.afterThreeTries,
  ),
  vaultSurvivor('EqualityOperator', 'retryIn >= 0', 'if (retryIn > 0 &&', VAULT_REASONS.margin),
  vaultSurvivor(
    'EqualityOperator',
    'retryIn < LONGEST_WAIT_IN_REQUEST_MS',
    'if (retryIn > 0 &&',
    VAULT_REASONS.margin,
  ),
  vaultSurvivor(
    'EqualityOperator',
    'row.accessExpiresAt >= now',
    'if (row.accessExpiresAt > now)',
    VAULT_REASONS.margin,
  ),
  vaultSurvivor('OptionalChaining', 'before.attemptedAt', 'before?.attemptedAt', VAULT_REASONS.beforeRead),
  vaultSurvivor(
    'EqualityOperator',
    'Date.now() - before.attemptedAt.getTime() >= REFRESH_GRACE_MS',
    '> REFRESH_GRACE_MS',
    VAULT_REASONS.margin,
  ),
  vaultSurvivor('StringLiteral', '""', "kind: 'failed'", VAULT_REASONS.failedKind),
  vaultSurvivor('ConditionalExpression', 'false', 'if (saved)', VAULT_REASONS.savedRead),
  vaultSurvivor(
    'EqualityOperator',
    'Date.now() - attemptedAt.getTime() <= REFRESH_GRACE_MS',
    '< REFRESH_GRACE_MS',
    VAULT_REASONS.margin,
  ),
];

type Status = 'Killed' | 'Survived' | 'Timeout' | 'NoCoverage' | 'CompileError' | 'RuntimeError' | 'Ignored';

interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: Status;
  /** Run while its module loads; with no test covering it, Stryker runs it only then. */
  static?: boolean;
  coveredBy?: string[];
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

interface StrykerReport {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

interface RunInfo {
  machine: Machine;
  minutes: Record<string, string>;
}

async function main() {
  const reportOnly = process.argv.includes('--report-only');
  const wanted = RUNS.filter((run) => !run.flag || process.argv.includes(run.flag));
  if (!reportOnly) {
    const info: RunInfo = { machine: describeMachine(), minutes: {} };
    for (const run of wanted) {
      const started = performance.now();
      const result = spawnSync('npx', ['stryker', 'run', run.configFile], { stdio: 'inherit' });
      if (result.status !== 0) throw new Error(`Stryker (${run.configFile}) exited with ${result.status}.`);
      info.minutes[run.name] = ((performance.now() - started) / 60_000).toFixed(1);
    }
    await mkdir(path.dirname(RUN_INFO), { recursive: true });
    writeFileSync(RUN_INFO, JSON.stringify(info, null, 2));
  }
  const info = JSON.parse(readFileSync(RUN_INFO, 'utf8')) as RunInfo;
  // Only the runs of the last invocation: an older report would mix two states of the code.
  const reports = RUNS.filter((run) => info.minutes[run.name] !== undefined).map((run) => ({
    run,
    report: leaveOutStatic(JSON.parse(readFileSync(run.report, 'utf8')) as StrykerReport),
  }));
  const markdown = await format(toMarkdown(info, reports), { parser: 'markdown' });
  writeFileSync(OUTPUT, markdown);
  console.log(`Wrote ${OUTPUT}`);
}

/**
 * Counts a mutant that only runs while its module loads as left out, as `ignoreStatic` does, also
 * when an incremental run reused its result from a run without that setting.
 */
function leaveOutStatic(report: StrykerReport): StrykerReport {
  for (const { mutants } of Object.values(report.files)) {
    for (const mutant of mutants) {
      if (mutant.static && !mutant.coveredBy?.length) mutant.status = 'Ignored';
    }
  }
  return report;
}

const DETECTED: Status[] = ['Killed', 'Timeout'];
const UNDETECTED: Status[] = ['Survived', 'NoCoverage'];

function score(mutants: Mutant[]) {
  const detected = mutants.filter((m) => DETECTED.includes(m.status)).length;
  const valid = detected + mutants.filter((m) => UNDETECTED.includes(m.status)).length;
  return { detected, valid, percent: valid ? (100 * detected) / valid : 100 };
}

function equivalence(file: string, source: string, mutant: Mutant) {
  const line = source.split('\n')[mutant.location.start.line - 1] ?? '';
  return EQUIVALENT.find(
    (entry) =>
      entry.file === file &&
      entry.mutator === mutant.mutatorName &&
      entry.replacement === mutant.replacement &&
      line.includes(entry.line) &&
      (entry.original === undefined || entry.original === original(source, mutant)),
  );
}

/** The mutated source text, on one line. */
function original(source: string, mutant: Mutant): string {
  const lines = source.split('\n');
  const { start, end } = mutant.location;
  const text =
    start.line === end.line
      ? (lines[start.line - 1] ?? '').slice(start.column - 1, end.column - 1)
      : [(lines[start.line - 1] ?? '').slice(start.column - 1), '…'].join(' ');
  return text.replace(/\s+/g, ' ').trim();
}

const code = (text: string) => `\`${text.replaceAll('`', "'").replaceAll('|', '\\|').slice(0, 80)}\``;

function toMarkdown(info: RunInfo, reports: { run: Run; report: StrykerReport }[]): string {
  const { machine } = info;
  const lines = [
    '# Mutation testing',
    '',
    'Written by `npm run mutation` (bench/mutation.ts) from the JSON reports of Stryker. Score: killed or timed out, of all mutants that ran or had no test. Mutants that run only while a module loads (static) are left out: the vitest runner does not switch them on in time, see stryker.config.js.',
    '',
    `- Date: ${machine.date}`,
    `- CPU: ${machine.cpu}, ${machine.cores} cores; memory ${machine.memory}`,
    `- OS: ${machine.os}; Node ${machine.node}`,
    `- Load average at start (1, 5, 15 min): ${machine.loadAverage}`,
    ...reports.map(({ run }) => `- ${run.name} (${run.configFile}): ${info.minutes[run.name] ?? '?'} min`),
    '',
    '## Score per module',
    '',
    '| module | kind | mutants | killed | survived | no test | left out (static) | score |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const survivors: string[] = [];
  const equivalents: string[] = [];
  for (const { report } of reports) {
    for (const [file, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      const { percent } = score(mutants);
      const count = (status: Status) => mutants.filter((m) => m.status === status).length;
      const kind = SECURITY_CHECKS[file] ? `security: ${SECURITY_CHECKS[file]}` : 'other';
      lines.push(
        `| ${file} | ${kind} | ${mutants.length} | ${count('Killed') + count('Timeout')} | ${count('Survived')} | ${count('NoCoverage')} | ${count('Ignored')} | ${percent.toFixed(1)} % |`,
      );
      for (const mutant of mutants.filter((m) => UNDETECTED.includes(m.status))) {
        const where = `${file}:${mutant.location.start.line}`;
        const what = `${mutant.mutatorName}: ${code(original(source, mutant))} → ${code(mutant.replacement ?? '')}`;
        const known = equivalence(file, source, mutant);
        if (known) equivalents.push(`- ${where} ${what}. ${known.why}`);
        else
          survivors.push(
            `- ${where} ${what} (${mutant.status === 'NoCoverage' ? 'no test reaches it' : 'survived'})`,
          );
      }
    }
  }
  lines.push('', '## Survivors without a test or an explanation', '');
  lines.push(...(survivors.length ? survivors : ['None.']));
  lines.push('', '## Survivors explained (equivalent, or why no test can show them)', '');
  lines.push(...(equivalents.length ? equivalents : ['None.']));
  return lines.join('\n');
}

await main();
