// Owns `npm run bench [-- <part> [options]]`: a small registry of bench parts, run by name or all in turn.
import { announceMachine, type BenchPart } from './lib/part.js';
import { endOnSignals } from './lib/children.js';
import { postfixPart } from './postfix.js';
import { sendPart } from './send.js';
import { memoryPart } from './memory.js';
import { naivePart } from './naive.js';
import { ingestPart, renderPart } from './parts-main.js';
import { httpPart } from './http.js';
import { fetchPart } from './fetch.js';
import { crashPart } from './crash.js';
import { busyPart } from './busy.js';
import { rankingPart } from './ranking.js';

/** Every part, in the order `npm run bench` runs them. Add a part: export a BenchPart from bench/<name>.ts, list it here. */
const parts: BenchPart[] = [postfixPart, sendPart, naivePart, memoryPart, renderPart, ingestPart, fetchPart, httpPart, crashPart, busyPart, rankingPart];

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log('npm run bench -- [part] [--key=value ...]\nparts:');
    for (const p of parts) console.log(`  ${p.name.padEnd(10)} ${p.description}`);
    return;
  }
  const selected = name && !name.startsWith('--') ? parts.filter((p) => p.name === name) : parts;
  if (selected.length === 0) {
    console.error(`unknown bench part ${JSON.stringify(name)}; parts: ${parts.map((p) => p.name).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const args = name && !name.startsWith('--') ? rest : argv;
  endOnSignals();
  announceMachine();
  for (const part of selected) {
    console.log(`\n== bench ${part.name}: ${part.description}`);
    await part.run(args);
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
