// Owns the one rule for whether dist/ may run: built (dist/.built stamped) after the last change to any file under src/.
import { readdirSync, statSync } from 'node:fs';

function builtAt(root) {
  try {
    return statSync(root + 'dist/.built').mtimeMs;
  } catch {
    return -1;
  }
}

function changedSince(dir, since) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = dir + '/' + entry.name;
    if (entry.isDirectory() ? changedSince(path, since) : statSync(path).mtimeMs > since) return true;
  }
  return false;
}

/** True when `root` (ending in a slash) has a build newer than every file under its src/. */
export function buildIsFresh(root) {
  const since = builtAt(root);
  return since >= 0 && !changedSince(root + 'src', since);
}
