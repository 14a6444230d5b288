// Owns turning the LaTeX escapes found in abstracts into readable Unicode text.

const ACCENTS: Record<string, string> = {
  '"': '\u0308', // diaeresis: Schr\"odinger
  "'": '\u0301', // acute: R\'enyi
  '`': '\u0300', // grave
  '^': '\u0302', // circumflex
  '~': '\u0303', // tilde
  '=': '\u0304', // macron
  '.': '\u0307', // dot above
  u: '\u0306', // breve
  v: '\u030C', // caron: \v{s}
  H: '\u030B', // double acute
  c: '\u0327', // cedilla: \c{c}
  k: '\u0328', // ogonek
};

// Commands that stand for a symbol; backslash-less forms ({to}, {times}) appear where a page lost the backslash.
const SYMBOLS: Record<string, string> = {
  times: '×',
  to: '→',
  infty: '∞',
  approx: '≈',
  leq: '≤',
  geq: '≥',
  pm: '±',
  cdot: '·',
  ldots: '…',
  dots: '…',
  alpha: 'α',
  beta: 'β',
  gamma: 'γ',
  delta: 'δ',
  epsilon: 'ε',
  lambda: 'λ',
  mu: 'μ',
  sigma: 'σ',
  tau: 'τ',
  theta: 'θ',
  ell: 'ℓ',
  rho: 'ρ',
  phi: 'φ',
  pi: 'π',
  omega: 'ω',
  nabla: '∇',
};

const SIMPLE: Record<string, string> = {
  '\\%': '%',
  '\\&': '&',
  '\\_': '_',
  '\\#': '#',
  '\\$': '$',
  '\\{': '{',
  '\\}': '}',
  '\\ss': 'ß',
  '\\o': 'ø',
  '\\O': 'Ø',
  '\\aa': 'å',
  '\\AA': 'Å',
  '\\ae': 'æ',
  '\\l': 'ł',
  '\\i': 'ı',
};

/** `Schr\"odinger` -> `Schrödinger`, `{\em labeled}` -> `labeled`, `\%` -> `%`. Unknown commands are left as they are. */
export function latexToText(input: string): string {
  if (!input.includes('\\') && !input.includes('{') && !input.includes('$')) return input;
  let s = input;
  // Inline math keeps its content and loses its delimiters: "$\alpha$-Divergence" reads as "α-Divergence".
  if (s.includes('$')) s = s.replace(/(?<!\\)\$([^$\n]{1,200}?)(?<!\\)\$/g, '$1');
  // Font switches inside a group keep only their text.
  s = s.replace(/\{\\(?:em|it|bf|sl|sc|tt|rm|sf)\s+([^{}]*)\}/g, '$1');
  s = s.replace(/\\(?:emph|textit|textbf|texttt|textsc|mathrm|mathbf|text)\{([^{}]*)\}/g, '$1');
  // Accents: \"o, \"{o}, {\"o}
  s = s.replace(/\{?\\(["'`^~=.]|[uvHck](?=[{\s]))\s*\{?([A-Za-z]|\\i)\}?\}?/g, (_m, acc: string, ch: string) => {
    const base = ch === '\\i' ? 'i' : ch;
    return (base + (ACCENTS[acc] ?? '')).normalize('NFC');
  });
  s = s.replace(/\\newline\b|\\\\/g, ' ');
  s = s.replace(/\\eg\b,?/g, 'e.g.,').replace(/\\ie\b,?/g, 'i.e.,');
  for (const [from, to] of Object.entries(SIMPLE)) s = s.split(from).join(to);
  s = s.replace(/\\([A-Za-z]+)(?![A-Za-z])/g, (m, name: string) => SYMBOLS[name] ?? m);
  // Bare groups around a symbol or a single operator: D{=}1, 10{,}000, 64{times}64.
  s = s.replace(/\{([=+,\-<>]|[A-Za-z]+)\}/g, (m, inner: string) => {
    if (inner.length === 1 && /[=+,\-<>]/.test(inner)) return inner;
    return SYMBOLS[inner] ?? m;
  });
  return s;
}
