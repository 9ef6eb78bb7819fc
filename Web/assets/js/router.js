// A history-API router: real paths (`/hosts/42?status=online`), no `#`. The server answers every
// non-API path with index.html, so a deep link or a reload lands here and is routed again.

/**
 * Compiles route patterns once. A pattern is a path with `:name` segments (`/hosts/:id`);
 * parameters match one non-empty segment and are URL-decoded.
 * @param {{path: string, [k: string]: any}[]} routes
 */
export function compileRoutes(routes) {
  return routes.map((route) => {
    const names = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        if (segment.startsWith(':')) {
          names.push(segment.slice(1));
          return '([^/]+)';
        }
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    return { ...route, names, regex: new RegExp('^' + source + '/?$') };
  });
}

/**
 * The first route matching `pathname`, with its parameters; `null` when none does.
 * @returns {{route: any, params: Record<string, string>} | null}
 */
export function matchRoute(compiled, pathname) {
  // Collapse repeated slashes ("//hosts") so an odd link still finds its page.
  const path = pathname.replace(/\/{2,}/g, '/');
  for (const route of compiled) {
    const m = route.regex.exec(path);
    if (!m) continue;
    const params = {};
    try {
      route.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]);
      });
    } catch {
      return null; // malformed percent-encoding: no page
    }
    return { route, params };
  }
  return null;
}

/**
 * Whether a click on a link should be handled in the page instead of by the browser: a plain
 * left click on a same-origin link without `target` or `download`.
 */
export function isInAppClick(event, anchor, origin) {
  if (event.defaultPrevented || event.button !== 0) return false;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return false;
  if (!anchor || anchor.hasAttribute('download') || (anchor.target && anchor.target !== '_self')) return false;
  // In-page anchors ("#main", the skip link) are the browser's.
  if ((anchor.getAttribute?.('href') ?? '').startsWith('#')) return false;
  let url;
  try {
    url = new URL(anchor.href, origin);
  } catch {
    return false;
  }
  return url.origin === origin && !url.pathname.startsWith('/api/');
}

/**
 * The browser side: listens to link clicks and back/forward, calls `onRoute(match, url)` for each
 * location. `navigate(path)` pushes a new entry, `replace(path)` rewrites the current one (filters
 * typed into a search box should not fill the history).
 */
export function startRouter(routes, { onRoute, notFound }) {
  const compiled = compileRoutes(routes);
  const render = () => {
    const url = new URL(window.location.href);
    const match = matchRoute(compiled, url.pathname);
    if (match) onRoute(match, url);
    else notFound(url);
  };
  document.addEventListener('click', (event) => {
    const anchor = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!isInAppClick(event, anchor, window.location.origin)) return;
    event.preventDefault();
    navigate(anchor.getAttribute('href'));
  });
  window.addEventListener('popstate', render);
  function navigate(path) {
    if (path !== window.location.pathname + window.location.search) window.history.pushState(null, '', path);
    render();
  }
  function replace(path, { rerender = false } = {}) {
    window.history.replaceState(null, '', path);
    if (rerender) render();
  }
  /** A new history entry for state the page already shows (Back then returns to the old state). */
  function push(path) {
    if (path !== window.location.pathname + window.location.search) window.history.pushState(null, '', path);
  }
  return { navigate, replace, push, render };
}
