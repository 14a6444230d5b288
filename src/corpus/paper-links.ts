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

/**
 * An http(s) URL whose host is plain ASCII labels, the last not a number (the URL parser reads those as IPv4) nor
 * punycode (which it checks), with no port or user: the parser accepts it (it takes any printable path) and its
 * hostname is the host lowercased. Most links are this; `new URL` costs ~1 µs more each (bench fetch).
 */
const PLAIN_URL = /^https?:\/\/((?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*)(?:[/?#][!-~]*)?$/i;

/** The URL's hostname, or null when it does not parse. */
export function hostOf(url: string): string | null {
  const m = PLAIN_URL.exec(url);
  if (m && !m[1]!.toLowerCase().includes('xn--')) return m[1]!.toLowerCase();
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}

/** Whether `url` is an http(s) URL the parser accepts with a dotted host, without parsing it when it is plain. */
export function isPlainWebUrl(url: string): boolean {
  const m = PLAIN_URL.exec(url);
  return m !== null && !m[1]!.toLowerCase().includes('xn--');
}

/** The kind a link to this URL is: code hosts give `code`, everything else `project`. */
export function linkKind(url: string): LinkKind {
  const host = hostOf(url);
  return host !== null && CODE_HOSTS.test(host) ? 'code' : 'project';
}

export function extractLinks(text: string): PaperLink[] {
  const seen = new Set<string>();
  const out: PaperLink[] = [];
  for (const m of text.matchAll(/\bhttps?:\/\/[^\s<>"]+/gi)) {
    const url = trimUrl(m[0]);
    const host = hostOf(url);
    if (host === null || !host.includes('.') || seen.has(url)) continue;
    seen.add(url);
    out.push({ url, kind: CODE_HOSTS.test(host) ? 'code' : 'project' });
  }
  return out;
}
