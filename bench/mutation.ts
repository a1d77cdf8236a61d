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
import { fileURLToPath } from 'node:url';
import { format } from 'prettier';
import ts from 'typescript';
import { describeMachine, machineLines, type Machine } from './lib/machine';

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
  'server/accounts/sessions.ts': 'session lookup',
  'server/http/routes/vehicle-routes.ts': 'session lookup',
  'server/accounts/connect-states.ts': 'state binding',
  'protocol/extension-identity.ts': 'redirect allow-list',
  'server/config.ts': 'redirect allow-list',
  'server/http/app.ts': 'origin check',
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

/**
 * A survivor that cannot change what anyone observes, with the reason. Keyed by what a reformat
 * (another print width, a line broken elsewhere, a call wrapped) leaves alone, so an explanation
 * neither gets lost nor lands on another mutant when the layout changes: see `explanationFor`.
 * tests/operations/mutation-explanations.test.ts checks every entry against its file as it is now.
 */
export interface Explanation {
  file: string;
  /**
   * The name of a declaration around the mutant: a function, method, constructor (`constructor`),
   * accessor, class, class property or variable; any one of them, not only the innermost.
   */
  scope: string;
  mutator: string;
  /** The mutated source text, as the report's `source` has it between the mutant's start and end. */
  text: string;
  replacement: string;
  /**
   * Where `scope` holds more than one such mutant and only some are explained: the source text of
   * an expression or statement around the mutant that only those are inside.
   */
  inside?: string;
  why: string;
}

/** A token vault survivor: in `scope`, `mutator` turns `text` into `replacement`. */
const vaultSurvivor = (
  scope: string,
  mutator: string,
  text: string,
  replacement: string,
  why: string,
  inside?: string,
): Explanation => ({
  file: 'server/vault/token-vault.ts',
  scope,
  mutator,
  text,
  replacement,
  why,
  ...(inside ? { inside } : {}),
});

export const EQUIVALENT: Explanation[] = [
  {
    file: 'server/vault/cipher.ts',
    scope: 'constructor',
    mutator: 'ArrayDeclaration',
    text: '[]',
    replacement: '["Stryker was here"]',
    why: 'The default applies only when no old keys are passed; the extra entry is a string, not a 32-byte key, under an id no stored row carries, so it can neither open nor seal anything.',
  },
  {
    file: 'server/vault/cipher.ts',
    scope: 'encrypt',
    mutator: 'StringLiteral',
    text: "'utf8'",
    replacement: '""',
    why: 'Node reads a string with an empty encoding name as UTF-8, its default, so the sealed bytes are the same (the round trip of a non-ASCII token checks it).',
  },
  {
    file: 'server/vault/cipher.ts',
    scope: 'loadOrCreateDevelopmentKey',
    mutator: 'MethodExpression',
    text: "readFileSync(file, 'utf8').trim()",
    replacement: "readFileSync(file, 'utf8')",
    why: "Node's base64 decoder skips whitespace, so the key file reads the same with or without its trailing newline (a test checks the outcome).",
  },
  {
    file: 'server/vault/cipher.ts',
    scope: 'loadOrCreateDevelopmentKey',
    mutator: 'ObjectLiteral',
    text: "{ mode: 0o600, flag: 'wx' }",
    replacement: '{}',
    why: 'Not equivalent, but only a race can show it: the file is made owner-only right after anyway (a test checks the mode), and `wx` matters only when another process writes the key between the existence check and this write.',
  },
  {
    file: 'server/vault/cipher.ts',
    scope: 'loadOrCreateDevelopmentKey',
    mutator: 'StringLiteral',
    text: "'wx'",
    replacement: '""',
    why: 'Node reads an empty flag as `w`; the difference from `wx` shows only in the race described above.',
  },
  ...(
    [
      ['lastUsedAt', 'this.lifetime.idleMs'],
      ['createdAt', 'this.lifetime.maxMs'],
      ['lastUsedAt', 'SESSION_RENEWAL_MS'],
    ] as const
  ).map(([since, limit]) => ({
    file: 'server/accounts/sessions.ts',
    scope: 'findCaller',
    mutator: 'EqualityOperator',
    text: `now - session.${since}.getTime() >= ${limit}`,
    replacement: `now - session.${since}.getTime() > ${limit}`,
    why: 'Differs only when the age is the limit to the millisecond; the limits are days and an hour, not a promise to the millisecond (the tests check a minute either side).',
  })),
  {
    file: 'server/http/api-errors.ts',
    scope: 'upstreamError',
    mutator: 'ConditionalExpression',
    text: 'status === 430',
    replacement: 'false',
    why: "Smartcar's 430 always comes with the type BILLING, which the other half of the condition catches (https://smartcar.com/docs/help/api-limits).",
  },
  {
    file: 'server/http/api-errors.ts',
    scope: 'upstreamError',
    mutator: 'ConditionalExpression',
    text: "type === 'UPSTREAM'",
    replacement: 'true',
    why: 'Smartcar uses the code RATE_LIMIT only under the type UPSTREAM; its own limits are the type RATE_LIMIT with the codes VEHICLE and SMARTCAR_API (https://smartcar.com/docs/help/api-limits).',
  },
  {
    file: 'server/http/api-errors.ts',
    scope: 'upstreamError',
    mutator: 'ConditionalExpression',
    text: "type === 'RATE_LIMIT'",
    replacement: 'true',
    why: 'A 429 with the code VEHICLE comes only with the type RATE_LIMIT (same page).',
  },
  {
    file: 'server/config.ts',
    scope: 'list',
    mutator: 'StringLiteral',
    text: "''",
    replacement: '"Stryker was here!"',
    why: 'With nothing set, the list becomes one made-up extension ID with spaces and capitals; Chrome and Firefox IDs cannot contain them, so no extension can use the redirect URL it would allow.',
  },
  {
    file: 'emulator/store.ts',
    scope: 'snapshot',
    mutator: 'EqualityOperator',
    text: 'code.expiresAt > now',
    replacement: 'code.expiresAt >= now',
    why: 'Keeps in the state file a code expiring in this very millisecond; its expiry is checked again when it is used.',
  },
  {
    file: 'server/accounts/sessions.ts',
    scope: 'createUserWithSession',
    mutator: 'ConditionalExpression',
    text: '!user',
    replacement: 'false',
    why: '`insert … returning` yields the inserted row or throws, so the guard for a missing row never runs.',
  },
  {
    file: 'server/accounts/sessions.ts',
    scope: 'createUserWithSession',
    mutator: 'StringLiteral',
    text: "'Inserting a user returned no row.'",
    replacement: '""',
    why: 'The message of the guard above, which never runs.',
  },
  {
    file: 'utils/connect-redirect.ts',
    scope: 'requiredScope',
    mutator: 'StringLiteral',
    text: "''",
    replacement: '"Stryker was here!"',
    why: 'Any scope text without a `required:` entry gives the same empty list as no scope at all.',
  },
  vaultSurvivor(
    'accessTokenExpiring',
    'EqualityOperator',
    'row.accessExpiresAt.getTime() - now.getTime() <= REFRESH_MARGIN_MS',
    'row.accessExpiresAt.getTime() - now.getTime() < REFRESH_MARGIN_MS',
    VAULT_REASONS.margin,
  ),
  vaultSurvivor(
    'refreshTokenExpiring',
    'ConditionalExpression',
    'row.refreshExpiresAt.getTime() - now.getTime() <= REFRESH_TOKEN_RENEWAL_MARGIN_MS',
    'true',
    VAULT_REASONS.renewalHolds,
  ),
  vaultSurvivor(
    'refreshTokenExpiring',
    'EqualityOperator',
    'row.refreshExpiresAt.getTime() - now.getTime() <= REFRESH_TOKEN_RENEWAL_MARGIN_MS',
    'row.refreshExpiresAt.getTime() - now.getTime() < REFRESH_TOKEN_RENEWAL_MARGIN_MS',
    VAULT_REASONS.margin,
  ),
  vaultSurvivor(
    'reencryptAll',
    'ConditionalExpression',
    'row.keyId === this.cipher.currentKeyId',
    'false',
    VAULT_REASONS.reencryptedMeanwhile,
  ),
  vaultSurvivor(
    'refresh',
    'EqualityOperator',
    'attempt.row.accessExpiresAt.getTime() > this.nowMs()',
    'attempt.row.accessExpiresAt.getTime() >= this.nowMs()',
    VAULT_REASONS.margin,
  ),
  ...(
    [
      ['ConditionalExpression', 'row.refreshLeaseUntil !== null && row.refreshLeaseUntil > now', 'false'],
      [
        'LogicalOperator',
        'row.refreshLeaseUntil !== null && row.refreshLeaseUntil > now',
        'row.refreshLeaseUntil !== null || row.refreshLeaseUntil > now',
      ],
      ['ConditionalExpression', 'row.refreshLeaseUntil !== null', 'true'],
      ['EqualityOperator', 'row.refreshLeaseUntil !== null', 'row.refreshLeaseUntil === null'],
      ['ConditionalExpression', 'row.refreshLeaseUntil > now', 'true'],
      ['EqualityOperator', 'row.refreshLeaseUntil > now', 'row.refreshLeaseUntil >= now'],
      ['EqualityOperator', 'row.refreshLeaseUntil > now', 'row.refreshLeaseUntil <= now'],
    ] as const
  ).map(([mutator, text, replacement]) =>
    vaultSurvivor('leased', mutator, text, replacement, VAULT_REASONS.oneClock),
  ),
  vaultSurvivor('refresh', 'EqualityOperator', 'retryIn <= 0', 'retryIn < 0', VAULT_REASONS.margin),
  vaultSurvivor(
    'refresh',
    'EqualityOperator',
    'this.nowMs() < giveUpAt',
    'this.nowMs() <= giveUpAt',
    VAULT_REASONS.margin,
  ),
  vaultSurvivor('refresh', 'ConditionalExpression', 'retryIn > 0', 'true', VAULT_REASONS.afterGivingUp),
  vaultSurvivor('refresh', 'EqualityOperator', 'retryIn > 0', 'retryIn >= 0', VAULT_REASONS.margin),
  vaultSurvivor(
    'refresh',
    'EqualityOperator',
    'retryIn <= LONGEST_WAIT_IN_REQUEST_MS',
    'retryIn < LONGEST_WAIT_IN_REQUEST_MS',
    VAULT_REASONS.margin,
  ),
  ...(
    [
      ['ConditionalExpression', 'true'],
      ['EqualityOperator', 'tries <= TRIES_PER_REQUEST'],
    ] as const
  ).map(([mutator, replacement]) =>
    vaultSurvivor(
      'refresh',
      mutator,
      'tries < TRIES_PER_REQUEST',
      replacement,
      VAULT_REASONS.afterThreeTries,
      // Not the same test a few lines up, on the back-off an attempt of this request set.
      'retryIn > 0 && retryIn <= LONGEST_WAIT_IN_REQUEST_MS && tries < TRIES_PER_REQUEST',
    ),
  ),
  vaultSurvivor(
    'refresh',
    'EqualityOperator',
    'row.accessExpiresAt > now',
    'row.accessExpiresAt >= now',
    VAULT_REASONS.margin,
  ),
  vaultSurvivor(
    'takeLease',
    'OptionalChaining',
    'before?.attemptedAt',
    'before.attemptedAt',
    VAULT_REASONS.beforeRead,
  ),
  vaultSurvivor(
    'markReconnectRequired',
    'EqualityOperator',
    'this.nowMs() - attemptedBefore.getTime() > REFRESH_GRACE_MS',
    'this.nowMs() - attemptedBefore.getTime() >= REFRESH_GRACE_MS',
    VAULT_REASONS.margin,
  ),
  vaultSurvivor('recordFailure', 'StringLiteral', "'failed'", '""', VAULT_REASONS.failedKind),
  vaultSurvivor('save', 'ConditionalExpression', 'saved', 'false', VAULT_REASONS.savedRead),
  vaultSurvivor(
    'inGrace',
    'EqualityOperator',
    'now.getTime() - attemptedAt.getTime() < REFRESH_GRACE_MS',
    'now.getTime() - attemptedAt.getTime() <= REFRESH_GRACE_MS',
    VAULT_REASONS.margin,
  ),
];

type Status = 'Killed' | 'Survived' | 'Timeout' | 'NoCoverage' | 'CompileError' | 'RuntimeError' | 'Ignored';

/** A place in the report's `source`: line and column both count from 1. */
interface Position {
  line: number;
  column: number;
}

export interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: Status;
  /** Run while its module loads; with no test covering it, Stryker runs it only then. */
  static?: boolean;
  coveredBy?: string[];
  location: { start: Position; end: Position };
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
  if (!reportOnly) await runStryker(RUNS.filter((run) => !run.flag || process.argv.includes(run.flag)));
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

/** Runs Stryker once per config and records the machine and how long each run took. */
async function runStryker(runs: Run[]) {
  const info: RunInfo = { machine: describeMachine(), minutes: {} };
  for (const run of runs) {
    const started = performance.now();
    const result = spawnSync('npx', ['stryker', 'run', run.configFile], { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`Stryker (${run.configFile}) exited with ${result.status}.`);
    info.minutes[run.name] = ((performance.now() - started) / 60_000).toFixed(1);
  }
  await mkdir(path.dirname(RUN_INFO), { recursive: true });
  writeFileSync(RUN_INFO, JSON.stringify(info, null, 2));
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

/**
 * Source text as a reformat leaves it: without whitespace outside string literals and without a
 * comma before a closing bracket (Prettier adds one where it breaks a list over lines).
 */
export const normalized = (text: string) =>
  text.replace(
    /('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`)|\s+|,(?=\s*[)\]}])/g,
    (_, literal) => (typeof literal === 'string' ? literal : ''),
  );

/**
 * The explanation of a mutant, if it has one: same file, mutator and replacement, the same mutated
 * text, inside a declaration named `scope` (and an expression that reads `inside`, when given),
 * all compared as `normalized`: a reformat changes none of them.
 */
export function explanationFor(
  file: string,
  source: string,
  mutant: Pick<Mutant, 'mutatorName' | 'replacement' | 'location'>,
): Explanation | undefined {
  const candidates = EQUIVALENT.filter(
    (entry) =>
      entry.file === file &&
      entry.mutator === mutant.mutatorName &&
      normalized(entry.replacement) === normalized(mutant.replacement ?? ''),
  );
  if (!candidates.length) return undefined;
  const sourceFile = parse(file, source);
  const start = offsetOf(sourceFile, mutant.location.start);
  const end = offsetOf(sourceFile, mutant.location.end);
  const text = normalized(source.slice(start, end));
  const around = nodesAround(sourceFile, start, end);
  const scopes = new Set(around.map(declarationName));
  const inside = (expression: string) =>
    around.some((node) => normalized(node.getText(sourceFile)) === normalized(expression));
  return candidates.find(
    (entry) =>
      normalized(entry.text) === text &&
      scopes.has(entry.scope) &&
      (entry.inside === undefined || inside(entry.inside)),
  );
}

const parsed = new Map<string, ts.SourceFile>();

/** The report's source of a file as the TypeScript compiler reads it, parsed once. */
function parse(file: string, source: string): ts.SourceFile {
  let sourceFile = parsed.get(file);
  if (sourceFile?.text !== source) {
    sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
    parsed.set(file, sourceFile);
  }
  return sourceFile;
}

function offsetOf(sourceFile: ts.SourceFile, { line, column }: Position): number {
  return (sourceFile.getLineStarts()[line - 1] ?? sourceFile.text.length) + column - 1;
}

/** The nodes that hold the text from `start` to `end`, outermost first. */
function nodesAround(sourceFile: ts.SourceFile, start: number, end: number): ts.Node[] {
  const nodes: ts.Node[] = [];
  for (let node: ts.Node | undefined = sourceFile; node;) {
    nodes.push(node);
    node = ts.forEachChild(node, (child) =>
      child.getStart(sourceFile) <= start && end <= child.getEnd() ? child : undefined,
    );
  }
  return nodes;
}

/** The name a mutant's `scope` can give: of a function, method, accessor, class, class property or variable. */
function declarationName(node: ts.Node): string | undefined {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const named =
    ts.isFunctionLike(node) ||
    ts.isClassLike(node) ||
    ts.isVariableDeclaration(node) ||
    ts.isPropertyDeclaration(node);
  if (!named || !node.name) return undefined;
  return ts.isIdentifier(node.name) || ts.isPrivateIdentifier(node.name) ? node.name.text : undefined;
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
  const lines = [
    ...header(info, reports),
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
      lines.push(moduleRow(file, mutants));
      for (const mutant of mutants.filter((m) => UNDETECTED.includes(m.status))) {
        const where = `${file}:${mutant.location.start.line}`;
        const what = `${mutant.mutatorName}: ${code(original(source, mutant))} → ${code(mutant.replacement ?? '')}`;
        const known = explanationFor(file, source, mutant);
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

function header({ machine, minutes }: RunInfo, reports: { run: Run }[]): string[] {
  return [
    '# Mutation testing',
    '',
    'Written by `npm run mutation` (bench/mutation.ts) from the JSON reports of Stryker. Score: killed or timed out, of all mutants that ran or had no test. Mutants that run only while a module loads (static) are left out: the vitest runner does not switch them on in time, see stryker.config.js.',
    '',
    ...machineLines(machine),
    ...reports.map(({ run }) => `- ${run.name} (${run.configFile}): ${minutes[run.name] ?? '?'} min`),
  ];
}

function moduleRow(file: string, mutants: Mutant[]): string {
  const { percent } = score(mutants);
  const count = (status: Status) => mutants.filter((m) => m.status === status).length;
  const kind = SECURITY_CHECKS[file] ? `security: ${SECURITY_CHECKS[file]}` : 'other';
  return `| ${file} | ${kind} | ${mutants.length} | ${count('Killed') + count('Timeout')} | ${count('Survived')} | ${count('NoCoverage')} | ${count('Ignored')} | ${percent.toFixed(1)} % |`;
}

// Run, not imported (tests/operations/mutation-explanations.test.ts imports the table).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
