// npm itself runs on the machine's Node; our scripts must run on the Node 22 that the `node`
// devDependency puts first on the PATH. Fail loudly instead of silently falling back.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `company-migration needs Node 22 or newer, but npm scripts run on Node ${process.versions.node}.\n` +
      'Run `npm ci` first: it installs Node 22 from the npm registry (the `node` devDependency).',
  );
  process.exit(1);
}
