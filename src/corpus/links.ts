// Owns finding the code and project links in an abstract, with the sentence's punctuation trimmed off.

export type LinkKind = 'code' | 'project';
export interface PaperLink {
  url: string;
  kind: LinkKind;
  /** A code repository's star count, when a source gave one (the daily-papers API's `githubStars`). */
  stars?: number;
}

const CODE_HOSTS = /^(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org|huggingface\.co|codeberg\.org|sourceforge\.net|gitee\.com)$/i;

function trimUrl(raw: string): string {
  let url = raw;
  for (;;) {
    const last = url.at(-1);
    if (last === undefined) return url;
    if ('.,;:!?\'"*'.includes(last)) {
      url = url.slice(0, -1);
      continue;
    }
    // A closing bracket belongs to the URL only when the URL opened it (Wikipedia-style links).
    const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
    const open = pairs[last];
    if (open && url.split(open).length - 1 < url.split(last).length - 1) {
      url = url.slice(0, -1);
      continue;
    }
    return url;
  }
}

/** The kind a link to this URL is: code hosts give `code`, everything else `project`. */
export function linkKind(url: string): LinkKind {
  try {
    return CODE_HOSTS.test(new URL(url).hostname) ? 'code' : 'project';
  } catch {
    return 'project';
  }
}

export function extractLinks(text: string): PaperLink[] {
  const seen = new Set<string>();
  const out: PaperLink[] = [];
  for (const m of text.matchAll(/\bhttps?:\/\/[^\s<>"]+/gi)) {
    const url = trimUrl(m[0]);
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      continue;
    }
    if (!host.includes('.') || seen.has(url)) continue;
    seen.add(url);
    out.push({ url, kind: CODE_HOSTS.test(host) ? 'code' : 'project' });
  }
  return out;
}
