// The token vault's own run: its tests build the whole stack on both databases, so they run only
// for the vault's mutants, not for every mutant of stryker.config.js.
import base from './stryker.config.js';

export default {
  ...base,
  mutate: ['server/vault/token-vault.ts'],
  // The in-process suites that exercise the vault (key rotation runs server processes, which a
  // mutant never reaches).
  testFiles: ['tests/server/token-vault.test.ts', 'tests/server/lost-refresh-answers.test.ts'],
  incrementalFile: 'reports/mutation/vault/stryker-incremental.json',
  htmlReporter: { fileName: 'reports/mutation/vault/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/vault/mutation.json' },
};
