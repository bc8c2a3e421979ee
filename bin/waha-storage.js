#!/usr/bin/env -S node --
// "node --": Node itself would otherwise read --env-file from the tool's own arguments (and exit 9 on a missing file)
import { main } from '../dist/cli/main.js';
await main(process.argv);
