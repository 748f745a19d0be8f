/**
 * Built files served as they are (the SDK bundle, the console's assets): read once per change of
 * the file (size or mtime), so a rebuild is picked up without a restart, with a strong ETag for
 * revalidation (`Cache-Control: no-cache`: the URLs do not change with the version).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';

export interface StaticFile {
  readonly mtimeMs: number;
  readonly size: number;
  readonly body: Buffer;
  readonly etag: string;
}

/** Whether an If-None-Match value names `etag` (weak comparison, as RFC 9110 asks for GET). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === etag);
}

/** A loader of files by URL with its own cache; undefined for a missing file or a directory. */
export function staticFiles(): (url: URL) => Promise<StaticFile | undefined> {
  const cache = new Map<string, StaticFile>();
  return async (url) => {
    let info;
    try {
      info = await stat(url);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const key = url.href;
    const hit = cache.get(key);
    if (hit && hit.mtimeMs === info.mtimeMs && hit.size === info.size) return hit;
    let body: Buffer;
    try {
      body = await readFile(url);
    } catch {
      return undefined;
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    const entry: StaticFile = { mtimeMs: info.mtimeMs, size: body.length, body, etag };
    cache.set(key, entry);
    return entry;
  };
}
