import preact from '@preact/preset-vite';
import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

export default defineConfig({
  test: {
    projects: [
      {
        // Extension code against WXT's in-memory fakeBrowser.
        plugins: [WxtVitest(), preact()],
        test: {
          name: 'extension',
          include: ['tests/extension/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
        },
      },
      {
        // Server and emulator over real sockets, with the embedded database or PostgreSQL.
        test: {
          name: 'server',
          include: ['tests/server/**/*.test.ts', 'tests/emulator/**/*.test.ts'],
          environment: 'node',
          // Some tests start, kill and restart whole server processes; a slow CI machine needs room.
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
      {
        // How the project is run: the README's recipes and tables, followed in real processes.
        test: {
          name: 'operations',
          include: ['tests/operations/**/*.test.ts'],
          environment: 'node',
          // Each file installs, builds or starts whole programs; one at a time leaves the cores to them.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        // The built extension in a real Chromium; one browser at a time keeps two cores responsive.
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/e2e/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
