// Set by wxt.config.ts from WXT_SERVER_URL at build time.
interface ImportMetaEnv {
  readonly WXT_SERVER_URL: string;
}
