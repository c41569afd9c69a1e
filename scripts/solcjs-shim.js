#!/usr/bin/env node
// A `solc` look-alike over the npm solc package, for py-solc-x's compile_standard
// (py-solc-x cannot download native compilers here, and raw `solcjs` prints noise before its JSON).
'use strict';
const path = require('path');
const fs = require('fs');
const solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write('solc, the solidity compiler commandline interface\nVersion: ' + solc.version() + '\n');
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('this shim supports only --version and --standard-json\n');
  process.exit(2);
}
const at = args.indexOf('--base-path');
const base = at >= 0 ? args[at + 1] : process.cwd();
const findImports = (p) => {
  try {
    return { contents: fs.readFileSync(path.resolve(base, p), 'utf8') };
  } catch (e) {
    return { error: 'File not found: ' + p };
  }
};
process.stdout.write(solc.compile(fs.readFileSync(0, 'utf8'), { import: findImports }));
