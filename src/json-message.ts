/**
 * Messages between the nodes of a fleet (pub/sub messages, registry entries) are JSON objects of a few short fields. Anything else (too long,
 * not JSON, not an object) is dropped: a message on a Ferry channel may come from anyone with
 * access to the Redis, so it is parsed defensively and never throws.
 */
export function parseJsonObject(message: string, maxBytes: number): Record<string, unknown> | undefined {
  if (message.length > maxBytes) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(message);
  } catch {
    return undefined;
  }
  return typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Record<string, unknown>) : undefined;
}
