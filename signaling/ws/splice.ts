/**
 * The outgoing frame without re-serializing the payload. JSON.stringify of a 2.6 KB SDP (every
 * CR LF escaped again) costs about as much as JSON.parse plus the schema check of the whole frame;
 * instead, the payload's source text (already parsed and validated) is cut out of the incoming
 * frame and wrapped as `{"type":…,"from":…,"payload":<source>}`.
 *
 * Called only on text that JSON.parse accepted. The scan walks the top-level members, jumping over
 * strings with indexOf('"'), and gives up (→ JSON.stringify) on anything unusual: a key written
 * with escapes, or `payload` given twice (then the receiver's parser might pick another one than
 * the one validated).
 */

/** No `payload` member at the top level. */
export const NO_PAYLOAD = -2;

const QUOTE = 34;
const BACKSLASH = 92;

function skipWs(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

/** `s[i]` is '"': the index just past the closing quote, or -1. */
function skipString(s: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q < 0) return -1;
    let b = q - 1;
    while (s.charCodeAt(b) === BACKSLASH) b--;
    if (((q - 1 - b) & 1) === 0) return q + 1; // an even run of backslashes: the quote is real
    from = q + 1;
  }
}

/** The index just past the JSON value starting at `s[i]`, or -1. */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) return skipString(s, i);
  if (c === 123 /* { */ || c === 91 /* [ */) {
    let depth = 0;
    let j = i;
    while (j < s.length) {
      const d = s.charCodeAt(j);
      if (d === QUOTE) {
        j = skipString(s, j);
        if (j < 0) return -1;
        continue;
      }
      if (d === 123 || d === 91) depth++;
      else if (d === 125 /* } */ || d === 93 /* ] */) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return -1;
  }
  // number, true, false, null
  let j = i;
  while (j < s.length) {
    const d = s.charCodeAt(j);
    if (d === 44 /* , */ || d === 125 || d === 93 || d === 32 || d === 10 || d === 13 || d === 9) break;
    j++;
  }
  return j > i ? j : -1;
}

/**
 * Where the value of the top-level `payload` member is in `s`: its start (the end is written to
 * `end[0]`), NO_PAYLOAD when there is none, or -1 when the text is not plain enough to cut.
 */
export function payloadSpan(s: string, end: [number]): number {
  let i = skipWs(s, 0);
  if (s.charCodeAt(i) !== 123) return -1;
  i++;
  let start = NO_PAYLOAD;
  for (;;) {
    i = skipWs(s, i);
    const c = s.charCodeAt(i);
    if (c === 125) break; // '}'
    if (c !== QUOTE) return -1;
    const keyEnd = skipString(s, i);
    if (keyEnd < 0) return -1;
    for (let k = i + 1; k < keyEnd - 1; k++) if (s.charCodeAt(k) === BACKSLASH) return -1;
    const isPayload = keyEnd - i === 9 && s.startsWith('payload', i + 1);
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== 58 /* : */) return -1;
    i = skipWs(s, i + 1);
    const valueEnd = skipValue(s, i);
    if (valueEnd < 0) return -1;
    if (isPayload) {
      if (start !== NO_PAYLOAD) return -1;
      start = i;
      end[0] = valueEnd;
    }
    i = skipWs(s, valueEnd);
    const sep = s.charCodeAt(i);
    if (sep === 44) {
      i++;
      continue;
    }
    if (sep === 125) break;
    return -1;
  }
  return start;
}
