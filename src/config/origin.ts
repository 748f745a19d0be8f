/**
 * What is wrong with an entry of signaling.cors_origins, or null. Browsers send the serialized
 * origin (RFC 6454): scheme, host and port, lowercase, the default port left out, nothing after
 * it. signaling/ compares the Origin header with the entries as strings, so an entry written any
 * other way would silently never match: it is refused here with the form that would.
 */
export function originProblem(s: string): string | null {
  if (s === '*') return null;
  if (s === 'null') {
    return '"null" cannot be allowed: sandboxed pages and local files all send it, so any page could claim it';
  }
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return `${JSON.stringify(s)} is not an origin: expected "scheme://host[:port]", e.g. "https://app.example.com"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `${JSON.stringify(s)}: only http and https origins (browser pages) can be allowed`;
  }
  if (url.hostname.includes('*')) {
    return `${JSON.stringify(s)}: wildcards in a host are not supported; list each origin, or give ["*"] for all`;
  }
  if (url.origin !== s) {
    return `${JSON.stringify(s)} is not an origin as browsers send it ("scheme://host[:port]": lowercase, no default port, no path, query or trailing slash): did you mean ${JSON.stringify(url.origin)}?`;
  }
  return null;
}
