/**
 * Finds where JSON text stops being valid. JSON.parse's messages do not always carry a position
 * (Node 20 prints `Unexpected token '}', "…" is not valid JSON`), so this small scanner locates
 * the first error itself to tell the operator the line and column.
 */

export interface JsonSyntaxProblem {
  /** 0-based offset in the text. */
  readonly offset: number;
  /** 1-based line and column. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const LITERALS = ['true', 'false', 'null'] as const;

/** null when `text` is valid JSON, else the first problem. */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | null {
  let i = 0;
  const describe = (at: number) => (at >= text.length ? 'end of file' : JSON.stringify(text[at]));
  const fail = (expected: string): never => {
    throw new Stop(i, `unexpected ${describe(i)}, expected ${expected}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) throw new Stop(i, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw new Stop(i, 'control character in string (write \\n, \\t, ...)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop(i, 'bad \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          throw new Stop(i, 'bad escape in string');
        }
      } else {
        i++;
      }
    }
  };
  const number = () => {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = i;
    if (!m.exec(text)) fail('a number');
    i = m.lastIndex;
  };
  const value = (depth: number): void => {
    if (depth > 512) throw new Stop(i, 'nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(text[i] === '}' ? 'a quoted key (JSON allows no trailing comma)' : 'a quoted key');
        string();
        ws();
        if (text[i] !== ':') fail('":"');
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail('"," or "}"');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === ']') fail('a value (JSON allows no trailing comma)');
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail('"," or "]"');
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const lit of LITERALS) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    fail('a value');
  };

  try {
    value(0);
    ws();
    if (i < text.length) fail('end of file');
    return null;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const before = text.slice(0, err.offset);
    const line = before.split('\n').length;
    const column = err.offset - (before.lastIndexOf('\n') + 1) + 1;
    return { offset: err.offset, line, column, message: err.message };
  }
}
