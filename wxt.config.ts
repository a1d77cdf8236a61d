import preact from '@preact/preset-vite';
import { defineConfig } from 'wxt';
import { EXTENSION_PUBLIC_KEY } from './protocol/extension-identity';

// The server the extension talks to; baked in at build time, changeable on the options page.
const serverUrl = new URL(process.env.WXT_SERVER_URL ?? 'http://127.0.0.1:8787');

export default defineConfig({
  modules: ['@wxt-dev/webextension-polyfill'],
  // Tests build into their own folder so they never overwrite the copy a developer loaded unpacked.
  outDir: process.env.WXT_OUT_DIR ?? '.output',
  vite: () => ({
    plugins: [preact()],
    // Extension pages load modules from the package itself; Vite's modulepreload polyfill is dead weight.
    build: { modulePreload: { polyfill: false } },
    define: { 'import.meta.env.WXT_SERVER_URL': JSON.stringify(serverUrl.origin) },
  }),
  manifest: {
    name: 'Car Connect',
    description: 'Connect your car with Smartcar and see its odometer, battery, location and locks.',
    permissions: ['identity', 'storage'],
    // Match patterns ignore the port, so this covers the default server only.
    host_permissions: [`${serverUrl.protocol}//${serverUrl.hostname}/*`],
    // Fixes the extension ID, and so the https://<id>.chromiumapp.org/ redirect URL, on every machine.
    key: EXTENSION_PUBLIC_KEY,
  },
});
