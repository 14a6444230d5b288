#!/usr/bin/env node
// Owns the `paperboy` command: runs the CLI in this very process, so signals sent to its pid reach the program.
// The compiled build (`npm run build`) when present and newer than the sources would be an option, but a stale
// dist/ would silently run old code; tsx's in-process loader compiles src/ on the fly instead (no child process).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
