/**
 * The one parser for `k=v,k2=v2` option strings: RUN --mount in a Dockerfile, and the CLI's
 * `--mount`, `--secret`, `--output`. Docker and BuildKit read these as one CSV record (Go's
 * encoding/csv), so a field may be double-quoted to hold a comma (`"src=a,b"`), and `""`
 * inside quotes is one `"`. Each field is then split at its first `=`: `ro` alone is a bare
 * flag (no value), `k=` an empty value. Keys keep their case and repeat as written; each
 * caller decides what a repeated or unknown key means.
 *
 * Unlike Go's reader, a newline is an ordinary character: option strings are one line, and
 * reading only the first record of a multi-line value would drop the rest without a word.
 */
import { BerthError } from '../errors/index.ts';

export interface KeyValue {
  /** As written (callers lower-case it where the key is case-insensitive). */
  readonly key: string;
  /** Undefined for a bare flag (`ro`), '' for `k=`. */
  readonly value?: string;
}

function csvError(text: string, at: number, what: string): BerthError {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return new BerthError('INVALID_ARGUMENT', `invalid option list ${JSON.stringify(shown)}: ${what} at character ${at + 1}`, {
    hint: 'options are key=value pairs separated by commas; quote a field that holds a comma: "key=a,b"',
  });
}

/** Splits one CSV record into its fields, as Go's encoding/csv does (quotes removed). */
export function splitFields(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      // A quoted field: up to a lone `"`, which must end the field.
      let field = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) throw csvError(text, i, 'a quote is not closed');
        field += text.slice(from, q);
        if (text[q + 1] === '"') {
          field += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(field);
      if (i === text.length) return fields;
      if (text[i] !== ',') throw csvError(text, i, 'a quoted field must end at a comma');
      i++;
      continue;
    }
    const comma = text.indexOf(',', i);
    const end = comma < 0 ? text.length : comma;
    const field = text.slice(i, end);
    const quote = field.indexOf('"');
    if (quote >= 0) throw csvError(text, i + quote, 'a quote inside an unquoted field');
    fields.push(field);
    if (comma < 0) return fields;
    i = comma + 1;
  }
}

/** `type=cache,ro,"src=a,b"` → `[{key:'type',value:'cache'},{key:'ro'},{key:'src',value:'a,b'}]`. Empty fields are skipped. */
export function parseKeyValues(text: string): KeyValue[] {
  const out: KeyValue[] = [];
  for (const field of splitFields(text)) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    out.push(eq < 0 ? { key: field } : { key: field.slice(0, eq), value: field.slice(eq + 1) });
  }
  return out;
}

/**
 * The fields as a map of lower-cased keys, for options where a key appears once: a repeated
 * key is an error naming `what` (e.g. `--secret`), and a bare flag maps to `undefined` unless
 * `bare` names the key it stands for (docker's `--output ./dir` is `dest=./dir`).
 */
export function keyValueMap(text: string, what: string, opts: { bare?: string } = {}): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const { key, value } of parseKeyValues(text)) {
    const [k, v] = value === undefined && opts.bare ? [opts.bare, key] : [key.toLowerCase(), value];
    if (out.has(k)) throw new BerthError('INVALID_ARGUMENT', `invalid ${what} "${text}": "${k}" is given twice`);
    out.set(k, v);
  }
  return out;
}
