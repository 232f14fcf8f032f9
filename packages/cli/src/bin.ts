#!/usr/bin/env node
import { run } from './cli.js';

// The AWS SDK warns on Node 20 that its future releases will need Node 22; the
// version this CLI ships with supports Node 20, so the warning only adds noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
