#!/usr/bin/env node
// The installed entry point (`npx company-migration`): runs the TypeScript CLI through tsx.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `company-migration needs Node 22 or newer (this is ${process.versions.node}); run it through npx or npm scripts after npm ci.`,
  );
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
await import('./company-migration.ts');
