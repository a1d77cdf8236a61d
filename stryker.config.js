// Mutation testing (`npm run mutation`) over the code where a silent break would hurt most.
// Where only part of a file is in scope, the part is found by name in the source, so the scope
// follows the code when lines move; a renamed function stops the run with a message saying so.
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** Lines (1-based, inclusive) of a named top-level function or `const`. */
function declaration(source, name) {
  const statement = source.statements.find(
    (node) =>
      (ts.isFunctionDeclaration(node) && node.name?.text === name) ||
      (ts.isVariableStatement(node) &&
        node.declarationList.declarations.some((d) => ts.isIdentifier(d.name) && d.name.text === name)),
  );
  if (!statement) throw new Error(`stryker.config.js: no top-level "${name}" in ${source.fileName}.`);
  return statement;
}

/** The statements and object properties inside `container` that mention `identifier`. */
function usesOf(source, containerName, identifier) {
  const container = declaration(source, containerName);
  const found = [];
  const visit = (node) => {
    const isPart =
      (ts.isVariableStatement(node) || ts.isExpressionStatement(node) || ts.isPropertyAssignment(node)) &&
      node.getText(source).includes(identifier);
    // The outermost statement or property that mentions it, not the pieces inside.
    if (isPart) found.push(node);
    else ts.forEachChild(node, visit);
  };
  ts.forEachChild(container, visit);
  if (found.length === 0) {
    throw new Error(
      `stryker.config.js: "${containerName}" in ${source.fileName} no longer uses "${identifier}".`,
    );
  }
  return found;
}

function lines(source, node) {
  const line = (position) => source.getLineAndCharacterOfPosition(position).line + 1;
  return `${source.fileName}:${line(node.getStart(source))}-${line(node.getEnd())}`;
}

/** `file:from-to` patterns for the parts of `file` that `pick` selects. */
function parts(file, pick) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  return pick(source).map((node) => lines(source, node));
}

export default {
  $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts' },
  mutate: [
    // Encryption at rest (the vault around it has its own run: stryker.vault.config.js).
    'server/vault/cipher.ts',
    // Session lookup and Connect's state binding.
    'server/accounts/sessions.ts',
    'server/accounts/connect-states.ts',
    // Which redirect URLs and origins the server accepts.
    'protocol/extension-identity.ts',
    ...parts('server/config.ts', (source) => [
      declaration(source, 'list'),
      declaration(source, 'parseExtensionIds'),
      ...usesOf(source, 'loadConfig', 'extensionIds'),
    ]),
    ...parts('server/http/app.ts', (source) => [
      declaration(source, 'isAllowedOrigin'),
      ...usesOf(source, 'allowOnlyTheExtension', 'isAllowedOrigin('),
    ]),
    // The extension's reading of the Connect redirect.
    'utils/connect-redirect.ts',
    // The one hook that finds the caller of every vehicle route.
    ...parts('server/http/routes/vehicle-routes.ts', (source) =>
      usesOf(source, 'vehicleRoutes', 'requireCaller'),
    ),
    // Smartcar's failures in words for the person.
    ...parts('server/http/api-errors.ts', (source) => [declaration(source, 'upstreamError')]),
    // The emulator's codes and tokens, bound to the client they were issued to.
    'emulator/store.ts',
  ],
  // The focused tests of these modules. The suites that build the whole stack per test file on
  // two databases (api, token-vault) would cost minutes per mutant on a shared two-core machine.
  testFiles: [
    'tests/server/cipher.test.ts',
    'tests/server/config.test.ts',
    'tests/server/redirect-allow-list.test.ts',
    'tests/server/cipher-tampering.test.ts',
    'tests/server/origin-check.test.ts',
    'tests/server/session-lookup.test.ts',
    'tests/server/connect-state-binding.test.ts',
    'tests/server/failure-mapping.test.ts',
    'tests/extension/connect-redirect*.test.ts',
    'tests/emulator/token-store-bindings.test.ts',
  ],
  coverageAnalysis: 'perTest',
  // A mutant run only while a module loads is not switched on in time by the vitest runner 9.6
  // with Vitest 4.1 (breaking the `list` helper of server/config.ts that way survived the tests
  // that fail when it is broken by hand), so such mutants are left out rather than miscounted.
  ignoreStatic: true,
  // Two workers on a two-core machine; `nice -n 19 npm run mutation` leaves the CPU to others first.
  concurrency: 2,
  // A shared machine makes test times uneven; a mutant that only looks slow must not count as killed.
  timeoutMS: 30_000,
  timeoutFactor: 3,
  dryRunTimeoutMinutes: 30,
  incremental: true,
  // Kept out of git: it is machine output that every change to these files or their tests invalidates.
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, reportTests: false, reportMutants: false },
  ignorePatterns: ['.output', 'data', 'docs', 'reports', 'test-results'],
  tempDirName: '.stryker-tmp',
};
