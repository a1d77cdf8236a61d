// The token vault's own run: its tests build the whole stack on both databases, so they run only
// for the vault's mutants, not for every mutant of stryker.config.js.
import base from './stryker.config.js';

export default {
  ...base,
  mutate: ['server/vault/token-vault.ts'],
  testFiles: ['tests/server/token-vault.test.ts'],
  incrementalFile: 'reports/mutation/vault/stryker-incremental.json',
  htmlReporter: { fileName: 'reports/mutation/vault/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/vault/mutation.json' },
};
