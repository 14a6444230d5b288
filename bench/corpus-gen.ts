// Owns generating a synthetic corpus in the three page layouts, for the ingest benchmark.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const WORDS =
  'neural operator diffusion model learning graph transformer attention kernel sparse robust stochastic flow matching physics informed equation solver latent bridge score gradient'.split(
    ' ',
  );
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** The site chrome every saved listing page starts with (docs/corpus.md, "The seed pages"). */
export const LISTING_HEADER = 'new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\nbyAK and the research community\n\n';

/** Writes `entries` entries over pages of `perPage`, cycling the three layouts; returns the directory. */
export function generateCorpus(dir: string, entries: number, perPage = 500, seed = 7): string {
  mkdirSync(dir, { recursive: true });
  const r = rng(seed);
  const word = () => WORDS[Math.floor(r() * WORDS.length)]!;
  const sentence = (n: number) => Array.from({ length: n }, word).join(' ');
  let page = 0;
  for (let start = 0; start < entries; start += perPage, page++) {
    const layout = (page % 3) + 1;
    const n = Math.min(perPage, entries - start);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = start + i;
      const title = `Paper ${id}: ${sentence(6)}`;
      const abstract = `${sentence(60)}. Code: https://github.com/lab/p${id}.`;
      if (layout === 3) parts.push(`${title}\n${abstract}\n`);
      else if (layout === 2) parts.push(`${title}\n\n${abstract}\n\n`);
      else {
        const meta = `  • ${1 + (id % 12)} authors\n·\n${MONTHS[id % 12]} ${1 + (id % 28)}, ${2019 + (id % 7)}${id % 3 ? ' ' + (id % 40) : ''}\n\n`;
        parts.push(`${title}\n\n${abstract}\n\n${id % 5 ? meta : ''}`);
      }
    }
    const text =
      layout === 3
        ? 'Get trending papers in your email inbox once a day!\nGet trending papers in your email inbox!\nSubscribe' + parts.join('')
        : LISTING_HEADER + `${MONTHS[page % 12]} ${1 + (page % 28)}\n\n` + parts.join('');
    writeFileSync(join(dir, `gen_${String(page).padStart(5, '0')}.txt`), text);
  }
  return dir;
}
