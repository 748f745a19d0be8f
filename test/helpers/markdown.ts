// Reading the project's Markdown (README.md, docs/*.md) in tests: files, sections, heading
// anchors as GitHub makes them, and relative links.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run compiled, from dist/test/...). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A Markdown file of the repository, by its path from the root (e.g. `docs/http-api.md`). */
export function readDoc(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** Text outside fenced code blocks (```), where headings and links count; code lines become blank. */
export function withoutCode(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('```')) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

interface Heading {
  readonly level: number;
  readonly title: string;
  readonly line: number;
}

function headings(text: string): Heading[] {
  const out: Heading[] = [];
  withoutCode(text)
    .split('\n')
    .forEach((line, i) => {
      const m = /^(#{1,6}) (.+?)\s*$/.exec(line);
      if (m) out.push({ level: m[1].length, title: m[2], line: i });
    });
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor the file's headings make (a repeated one gets -1, -2... as on GitHub). */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const h of headings(text)) {
    const base = slug(h.title);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/**
 * The section under the heading titled exactly `title` (any level), up to the next heading of the
 * same or a higher level; undefined when there is no such heading.
 */
export function section(text: string, title: string): string | undefined {
  const all = headings(text);
  const i = all.findIndex((h) => h.title === title);
  if (i < 0) return undefined;
  const lines = text.split('\n');
  const next = all.slice(i + 1).find((h) => h.level <= all[i].level);
  return lines.slice(all[i].line, next === undefined ? undefined : next.line).join('\n');
}

export interface Link {
  readonly text: string;
  readonly target: string;
  readonly image: boolean;
}

/** The inline links `[text](target)` and images `![alt](target)` outside code. */
export function links(text: string): Link[] {
  const out: Link[] = [];
  for (const m of withoutCode(text).matchAll(/(!?)\[([^\]]*)\]\(([^)\s]+)\)/g)) {
    out.push({ image: m[1] === '!', text: m[2], target: m[3] });
  }
  return out;
}
