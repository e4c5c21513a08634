// Loads the addon built by scripts/build-native.mjs. Only src/native/load.ts requires this file.
'use strict'
const { existsSync } = require('node:fs')
const { join } = require('node:path')

const file = join(__dirname, 'quorumnet.node')
if (!existsSync(file)) {
  throw new Error(`quorumnet native addon not built: ${file} is missing (run \`npm run build:native\`)`)
}
module.exports = require(file)
