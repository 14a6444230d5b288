// Owns arXiv identifiers: recognising both styles, dropping the version, and the links they give.

/** New style since 2007 (`2412.01234`, `0704.0001`), optionally versioned (`v2`). */
const NEW_STYLE = /^(\d{4}\.\d{4,5})(?:v\d+)?$/;
/** Old style (`hep-th/9901001`, `math.GT/0309136`), optionally versioned. */
const OLD_STYLE = /^([a-z][a-z-]*(?:\.[A-Z]{2})?\/\d{7})(?:v\d+)?$/;

/**
 * The identifier without its version (a paper's key: v1 and v2 are one paper), or null when `raw` is not an arXiv
 * identifier. Accepts an `arXiv:` prefix and an abs/pdf URL, as feeds write them.
 */
export function normalizeArxivId(raw: string): string | null {
  let s = raw.trim();
  const url = /^https?:\/\/(?:export\.|www\.)?arxiv\.org\/(?:abs|pdf)\/(.+?)(?:\.pdf)?$/i.exec(s);
  if (url) s = url[1]!;
  s = s.replace(/^arxiv:/i, '');
  const m = NEW_STYLE.exec(s) ?? OLD_STYLE.exec(s);
  return m ? m[1]! : null;
}

export const arxivAbsUrl = (id: string) => `https://arxiv.org/abs/${id}`;
export const arxivPdfUrl = (id: string) => `https://arxiv.org/pdf/${id}`;
/** The paper's page on the daily-papers site (it lists papers by arXiv id). */
export const dailyPapersPageUrl = (id: string) => `https://huggingface.co/papers/${id}`;
