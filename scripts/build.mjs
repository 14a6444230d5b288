// Owns `npm run build`: compiles src/ to dist/ and copies the files the code reads at run time beside it.
// The SQL migrations and named queries are read from the folder next to the compiled db module; the templates
// are read from the top-level templates/ folder, which dist/ code reaches the same way src/ code does.
import { cpSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// Stamped with the time the build started: a source saved while it ran makes the build stale (bin/paperboy.js).
const started = new Date();
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const dir of ['db/migrations', 'db/queries']) {
  cpSync(join(root, 'src', dir), join(root, 'dist', dir), { recursive: true, filter: (p) => !p.endsWith('.ts') });
}
writeFileSync(join(root, 'dist', '.built'), `built from src/ as of ${started.toISOString()}\n`);
utimesSync(join(root, 'dist', '.built'), started, started);
