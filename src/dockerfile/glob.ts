/**
 * Glob patterns as regular expressions, for the two places a Dockerfile has them: COPY/ADD
 * sources, where `*` and `?` stay within one path component (Go's filepath.Match), and the
 * shell-style `${VAR#pattern}` family of word expansion, where they match any character.
 * `[...]` is a character class (`[!...]` negated), and `\` makes the next character literal.
 * (.dockerignore patterns add `**` and follow Go's regexp rules: see dockerignore.ts.)
 */

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

/** The RegExp source (no anchors) of `glob`; `paths` keeps `*` and `?` inside one component. */
export function globSource(glob: string, opts: { paths: boolean }): string {
  const one = opts.paths ? '[^/]' : '[\\s\\S]';
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += `${one}*`;
    else if (c === '?') out += one;
    else if (c === '[') {
      // A `]` right after the `[` is a member, not the end: `[]a]` is the class of `]` and `a`.
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        const body = glob.slice(i + 1, end);
        const negated = body.startsWith('!') || body.startsWith('^');
        out += `[${negated ? '^' : ''}${(negated ? body.slice(1) : body).replace(/[\\\]\[]/g, '\\$&')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) out += glob[++i]!.replace(REGEX_SPECIAL, '\\$&');
    else out += c.replace(REGEX_SPECIAL, '\\$&');
  }
  return out;
}

/** A whole-path matcher for a COPY source pattern. */
export function pathGlob(glob: string): RegExp {
  return new RegExp(`^${globSource(glob, { paths: true })}$`);
}
