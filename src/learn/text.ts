// Owns turning a paper's text into features: word unigrams and bigrams of title and abstract, and author names.

/** Words too common in any abstract to say what a paper is about (IDF would shrink them; dropping them keeps bigrams meaningful). */
const STOP = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below between both but by can ' +
    'could did do does doing down during each few for from further had has have having he her here hers him his how however i if in into ' +
    'is it its itself just may me more most much must my no nor not now of off on once only or other our ours out over own same she ' +
    'should so some such than that the their theirs them then there these they this those through thus to too under until up upon us very ' +
    'via was we were what when where which while who whom why will with within without would yet you your ' +
    'paper propose proposed present show shows shown introduce novel approach method methods work results result based using use used new'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}][\p{L}\p{N}'-]*/gu;

/** Lowercased words with stopwords marked as breaks (null), so a bigram never spans "of the". */
function words(text: string): (string | null)[] {
  const out: (string | null)[] = [];
  for (const m of text.toLowerCase().matchAll(WORD)) {
    const w = m[0].replace(/['-]+$/, '');
    out.push(w.length < 2 || STOP.has(w) || /^\d+$/.test(w) ? null : w);
  }
  return out;
}

function addNgrams(counts: Map<string, number>, text: string, weight: number): void {
  const ws = words(text);
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i];
    if (!w) continue;
    counts.set(w, (counts.get(w) ?? 0) + weight);
    const next = ws[i + 1];
    if (next) {
      const bi = w + ' ' + next;
      counts.set(bi, (counts.get(bi) ?? 0) + weight);
    }
  }
}

/** An author as a feature: `@` and the name lowercased, whitespace collapsed ("@ada lovelace"). */
export function authorFeature(name: string): string {
  return '@' + normalizeAuthor(name);
}

export function normalizeAuthor(name: string): string {
  return name.normalize('NFKC').replace(/\s+/g, ' ').trim().toLowerCase();
}

export const TITLE_WEIGHT = 2;

/** Term counts of one paper: the title counts twice (it is what the reader saw when they tapped). */
export function paperTerms(title: string, abstract: string, authors: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  addNgrams(counts, title, TITLE_WEIGHT);
  addNgrams(counts, abstract, 1);
  for (const a of authors) {
    const f = authorFeature(a);
    if (f.length > 1) counts.set(f, 1);
  }
  return counts;
}
