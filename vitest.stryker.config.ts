// The test projects `npm run mutation` runs: Stryker runs the tests covering each mutant again and
// again, so it gets the fast projects only. Left out: the browsers (e2e), the tests that start
// server processes (a child process never loads the mutant) and the random fuzzing (a mutant it
// kills by chance would make the score vary from run to run).
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import base from './vitest.config';

const LEFT_OUT = ['tests/server/processes.test.ts', 'tests/server/fuzz.test.ts'];

const isInline = (project: unknown): project is TestProjectInlineConfiguration =>
  typeof project === 'object' && project !== null;

export default defineConfig({
  test: {
    projects: (base.test?.projects ?? [])
      .filter(isInline)
      .filter((project) => project.test?.name !== 'e2e')
      .map((project) => ({
        ...project,
        test: { ...project.test, exclude: [...configDefaults.exclude, ...LEFT_OUT] },
      })),
  },
});
