// The app shell: decides between first-run setup, login and the app; draws the top bar; routes
// paths to pages; gives each page a context whose timers, requests and listeners end when the
// user leaves it.

import { createApi, ApiError } from './api.js';
import { h, replace } from './dom.js';
import { startRouter } from './router.js';
import { setupForm, loginForm, createReauth } from './session.js';
import { errorBanner } from './ui.js';

import dashboard from './pages/dashboard.js';
import hosts from './pages/hosts.js';
import host from './pages/host.js';
import live from './pages/live.js';
import queries from './pages/queries.js';
import packs from './pages/packs.js';
import policies from './pages/policies.js';
import labels from './pages/labels.js';
import software from './pages/software.js';
import carves from './pages/carves.js';
import enrollment from './pages/enrollment.js';
import settings from './pages/settings.js';

const ROUTES = [
  { path: '/', page: dashboard, nav: 'dashboard' },
  { path: '/hosts', page: hosts, nav: 'hosts' },
  { path: '/hosts/:id', page: host, nav: 'hosts' },
  { path: '/live', page: live, nav: 'live' },
  { path: '/live/campaigns/:id', page: live, nav: 'live' },
  { path: '/queries', page: queries, nav: 'queries' },
  { path: '/queries/:id', page: queries, nav: 'queries' },
  { path: '/packs', page: packs, nav: 'packs' },
  { path: '/packs/:id', page: packs, nav: 'packs' },
  { path: '/policies', page: policies, nav: 'policies' },
  { path: '/policies/:id', page: policies, nav: 'policies' },
  { path: '/labels', page: labels, nav: 'labels' },
  { path: '/labels/:id', page: labels, nav: 'labels' },
  { path: '/software', page: software, nav: 'software' },
  { path: '/carves', page: carves, nav: 'carves' },
  { path: '/enrollment', page: enrollment, nav: 'enrollment' },
  { path: '/settings', page: settings, nav: 'settings' },
  { path: '/settings/:section', page: settings, nav: 'settings' },
];

const NAV = [
  { key: 'dashboard', href: '/', label: 'Dashboard' },
  { key: 'hosts', href: '/hosts', label: 'Hosts' },
  { key: 'live', href: '/live', label: 'Live query' },
  { key: 'queries', href: '/queries', label: 'Queries' },
  { key: 'packs', href: '/packs', label: 'Packs' },
  { key: 'policies', href: '/policies', label: 'Policies' },
  { key: 'labels', href: '/labels', label: 'Labels' },
  { key: 'software', href: '/software', label: 'Software' },
  { key: 'carves', href: '/carves', label: 'Carves' },
  { key: 'enrollment', href: '/enrollment', label: 'Enrollment' },
  { key: 'settings', href: '/settings', label: 'Settings' },
];

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
const overlay = document.getElementById('overlay');

let currentUser = null;
let reauth = null;
const api = createApi({ onUnauthenticated: () => reauth() });
reauth = createReauth(api, overlay, {
  onUser: (user) => {
    currentUser = user;
    drawTopbar(null);
  },
});

/** A page's lifetime: cleanups run when the next page replaces it. */
function pageContext(match, url, router) {
  const controller = new AbortController();
  const cleanups = [() => controller.abort()];
  return {
    main,
    api,
    user: currentUser,
    params: match.params,
    url,
    query: url.searchParams,
    signal: controller.signal,
    navigate: (path) => router.navigate(path),
    /** Rewrites the URL for the page's own state (filters), without drawing the page again. */
    replaceURL: (path) => router.replace(path),
    /** The same as a new history entry (a filter chosen from a menu; Back undoes it). */
    pushURL: (path) => router.push(path),
    title: (text) => {
      document.title = text ? `${text} · Pomona` : 'Pomona';
    },
    every(ms, fn) {
      const id = setInterval(fn, ms);
      cleanups.push(() => clearInterval(id));
      return id;
    },
    onCleanup: (fn) => cleanups.push(fn),
    get active() {
      return !controller.signal.aborted;
    },
    dispose: () => cleanups.splice(0).forEach((fn) => fn()),
  };
}

function drawTopbar(active) {
  const role = currentUser?.global_role ? ` (${currentUser.global_role})` : '';
  replace(
    topbar,
    h('a', { class: 'brand', href: '/' }, 'Pomona'),
    h(
      'nav',
      { class: 'nav', 'aria-label': 'Main' },
      NAV.map((item) => h('a', { href: item.href, 'aria-current': item.key === active ? 'page' : null }, item.label)),
    ),
    h(
      'div',
      { class: 'who' },
      h('span', { class: 'who-name', title: currentUser?.email ?? '' }, (currentUser?.name || currentUser?.email || '') + role),
      h('button', { type: 'button', class: 'quiet', onclick: signOut }, 'Sign out'),
    ),
  );
  topbar.hidden = false;
}

async function signOut() {
  try {
    await api.logout();
  } catch {
    // The cookie is cleared by the server even when the session had already ended.
  }
  currentUser = null;
  window.location.assign('/');
}

let router = null;
let current = null;
let firstRender = true;

function startApp() {
  drawTopbar(null);
  router = startRouter(ROUTES, {
    onRoute: (match, url) => show(match, url),
    notFound: (url) => {
      current?.dispose();
      current = null;
      drawTopbar(null);
      document.title = 'Not found · Pomona';
      replace(main, h('div', { class: 'page' }, h('h1', {}, 'No such page'), h('p', {}, 'Nothing lives at ', h('code', {}, url.pathname), '. ', h('a', { href: '/' }, 'Go to the dashboard'), '.')));
    },
  });
  router.render();
}

async function show(match, url) {
  current?.dispose();
  const ctx = pageContext(match, url, router);
  current = ctx;
  drawTopbar(match.route.nav);
  replace(main, h('div', { class: 'page loading' }, h('p', { class: 'muted' }, 'Loading…')));
  if (!firstRender) main.focus({ preventScroll: true });
  firstRender = false;
  window.scrollTo(0, 0);
  try {
    await match.route.page(ctx);
  } catch (error) {
    if (error?.name === 'AbortError' || !ctx.active) return;
    console.warn('page failed', error);
    replace(main, h('div', { class: 'page' }, h('h1', {}, 'This page could not be shown'), errorBanner(error)));
  }
}

function showStandalone(form) {
  topbar.hidden = true;
  replace(main, h('div', { class: 'auth-wrap' }, form.el));
  form.focus();
}

async function boot() {
  let status;
  try {
    status = await api.setupStatus();
  } catch (error) {
    replace(main, h('div', { class: 'auth-wrap' }, h('div', { class: 'card auth' }, h('h1', {}, 'Pomona'), errorBanner(error))));
    return;
  }
  if (status.require_setup) {
    document.title = 'Set up · Pomona';
    showStandalone(setupForm(api, { onDone: (user) => ((currentUser = user), startApp()) }));
    return;
  }
  try {
    const me = await api.me();
    currentUser = me.user;
    startApp();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      replace(main, h('div', { class: 'auth-wrap' }, h('div', { class: 'card auth' }, h('h1', {}, 'Pomona'), errorBanner(error))));
      return;
    }
    document.title = 'Sign in · Pomona';
    showStandalone(loginForm(api, { onDone: (user) => ((currentUser = user), startApp()) }));
  }
}

boot();
