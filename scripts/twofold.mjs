#!/usr/bin/env node
// The `twofold` command. Sources are TypeScript; tsx compiles them on the fly so a fresh clone
// works after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
