#!/usr/bin/env node
// Entry point of the docker-net-lab CLI: runs the bundled CLI (npm run build makes dist/cli.js).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const bundled = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundled)) {
  console.error('docker-net-lab: dist/cli.js is missing; run "npm run build" in the project first.');
  process.exit(2);
}
require(bundled).runCli();
