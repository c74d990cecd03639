#!/usr/bin/env node
// Why: this machine has no internet. node-gyp and cmake-js would otherwise try to download Node's headers
// and fail with an opaque network error. We check for the system Node's own headers up front and say
// exactly what to do when they are missing.
'use strict';
const fs = require('fs');
const path = require('path');

const nodedir = process.env.npm_config_nodedir || '';
const candidates = [nodedir, path.resolve(process.execPath, '..', '..'), '/usr', '/usr/local']
  .filter(Boolean)
  .map((d) => path.join(d, 'include', 'node', 'node_api.h'));
const found = candidates.find((f) => fs.existsSync(f));
if (!found) {
  console.error(
    'fairtune: the native addon needs the Node.js headers (node_api.h) and none were found in:\n  ' +
      candidates.join('\n  ') +
      '\nInstall them (Debian: apt-get install libnode-dev, or use a Node build that ships include/node) and ' +
      'point npm at them: npm config set nodedir <prefix containing include/node>.'
  );
  process.exit(1);
}
if (!nodedir) {
  console.warn(
    `fairtune: npm_config_nodedir is not set; node-gyp may try to download headers. ` +
      `Headers exist at ${path.dirname(path.dirname(path.dirname(found)))}: run "npm config set nodedir ${path.dirname(path.dirname(path.dirname(found)))}" if the build fails.`
  );
}
