// A small exact router: paths are split on "/", a segment ":name" captures one non-empty segment.
// No percent-decoding: every parameter of docs/protocol/09 (usernames, decimal ids, base64url ids)
// is URL-safe as it is, so an encoded character can only be a malformed request. A path that
// matches with another method is 405 (with Allow); no match is 404.

export interface Route<H> {
  readonly method: string;
  /** The template, e.g. "/v1/keys/:username/:deviceId"; also the route's metrics label. */
  readonly path: string;
  readonly handler: H;
}

export type Match<H> =
  | { readonly kind: 'found'; readonly route: Route<H>; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'method-not-allowed'; readonly allow: string; readonly path: string }
  | { readonly kind: 'not-found' };

export function createRouter<H>(routes: readonly Route<H>[]): (method: string, pathname: string) => Match<H> {
  const compiled = routes.map((route) => ({ route, segments: route.path.split('/') }));
  return (method, pathname) => {
    const parts = pathname.split('/');
    const allowed: string[] = [];
    let template: string | undefined;
    for (const { route, segments } of compiled) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const s = segments[i] ?? '';
        const p = parts[i] ?? '';
        if (s.startsWith(':')) {
          if (p === '') ok = false;
          else params[s.slice(1)] = p;
        } else if (s !== p) {
          ok = false;
        }
      }
      if (!ok) continue;
      if (route.method === method) return { kind: 'found', route, params };
      allowed.push(route.method);
      template = route.path;
    }
    if (allowed.length > 0 && template !== undefined) return { kind: 'method-not-allowed', allow: allowed.join(', '), path: template };
    return { kind: 'not-found' };
  };
}
