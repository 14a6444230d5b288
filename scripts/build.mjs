// Owns `npm run build`: compiles src/ to dist/ and copies the files the code reads at run time beside it.
// The SQL migrations and named queries are read from the folder next to the compiled db module; the templates
// are read from the top-level templates/ folder, which dist/ code reaches the same way src/ code does.
import { cpSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const dir of ['db/migrations', 'db/queries']) {
  cpSync(join(root, 'src', dir), join(root, 'dist', dir), { recursive: true, filter: (p) => !p.endsWith('.ts') });
}
