// The token vault's own run, with its rule-by-rule suite: the vault in process on an in-memory
// database against the emulator, under half a minute for the whole file. The end-to-end suites
// of the vault (token-vault, lost-refresh-answers, key-rotation) build whole stacks on two
// databases per file, minutes per mutant on a two-core machine; they run in `npm test`.
import base from './stryker.config.js';

export default {
  ...base,
  mutate: ['server/vault/token-vault.ts'],
  testFiles: ['tests/server/token-vault-rules.test.ts'],
  incrementalFile: 'reports/mutation/vault/stryker-incremental.json',
  htmlReporter: { fileName: 'reports/mutation/vault/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/vault/mutation.json' },
};
