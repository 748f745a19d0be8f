// Reads what a Ferry process printed during a fuzz or soak run: pino's JSON lines by level, and any
// other line (an uncaught exception's stack, a Node warning), which a healthy run never prints.

export interface OutputScan {
  /** Lines that are not pino JSON (stack traces, Node warnings). */
  other_lines: number;
  /** Of those, lines that look like an exception: "...Error: ..." or a stack frame "    at ...". */
  exception_lines: number;
  /** pino lines at level error (50) or fatal (60). */
  error_lines: number;
  warn_lines: number;
  /** The first few non-JSON and error lines, for the report (300 characters each). */
  examples: string[];
}

export function scanOutput(text: string): OutputScan {
  const scan: OutputScan = { other_lines: 0, exception_lines: 0, error_lines: 0, warn_lines: 0, examples: [] };
  const keep = (line: string): void => {
    if (scan.examples.length < 8) scan.examples.push(line.slice(0, 300));
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let level: unknown;
    try {
      level = (JSON.parse(line) as { level?: unknown }).level;
    } catch {
      scan.other_lines++;
      if (/\b\w*Error\b|^\s+at\s|uncaught/i.test(line)) scan.exception_lines++;
      keep(line);
      continue;
    }
    if (typeof level === 'number' && level >= 50) {
      scan.error_lines++;
      keep(line);
    } else if (level === 40) scan.warn_lines++;
  }
  return scan;
}
