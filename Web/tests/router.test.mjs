import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRoutes, matchRoute, isInAppClick } from '../assets/js/router.js';

const routes = compileRoutes([
  { path: '/', name: 'dashboard' },
  { path: '/hosts', name: 'hosts' },
  { path: '/hosts/:id', name: 'host' },
  { path: '/live', name: 'live' },
  { path: '/live/campaigns/:id', name: 'campaign' },
]);

test('paths match their routes with decoded parameters', () => {
  assert.equal(matchRoute(routes, '/').route.name, 'dashboard');
  assert.equal(matchRoute(routes, '/hosts').route.name, 'hosts');
  assert.equal(matchRoute(routes, '/hosts/').route.name, 'hosts');
  assert.deepEqual(matchRoute(routes, '/hosts/42').params, { id: '42' });
  assert.deepEqual(matchRoute(routes, '/live/campaigns/7').params, { id: '7' });
  assert.deepEqual(matchRoute(routes, '/hosts/a%20b').params, { id: 'a b' });
});

test('unknown paths, extra segments and bad encoding match nothing', () => {
  assert.equal(matchRoute(routes, '/nope'), null);
  assert.equal(matchRoute(routes, '/hosts/1/extra'), null);
  assert.equal(matchRoute(routes, '/hosts/%E0%A4%A'), null);
  assert.equal(matchRoute(routes, '/hostsX'), null);
});

test('repeated slashes collapse', () => {
  assert.deepEqual(matchRoute(routes, '//hosts//9').params, { id: '9' });
});

test('special characters in patterns are literal', () => {
  const r = compileRoutes([{ path: '/a.b', name: 'dot' }]);
  assert.equal(matchRoute(r, '/a.b').route.name, 'dot');
  assert.equal(matchRoute(r, '/aXb'), null);
});

test('only plain same-origin clicks outside /api/ stay in the page', () => {
  const origin = 'https://pomona.example:9443';
  const a = (href, attrs = {}) => ({ href, target: attrs.target ?? '', hasAttribute: (n) => n in attrs, getAttribute: () => href });
  const click = (more = {}) => ({ defaultPrevented: false, button: 0, metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, ...more });
  assert.equal(isInAppClick(click(), a('/hosts/1'), origin), true);
  assert.equal(isInAppClick(click({ ctrlKey: true }), a('/hosts/1'), origin), false);
  assert.equal(isInAppClick(click({ button: 1 }), a('/hosts/1'), origin), false);
  assert.equal(isInAppClick(click(), a('https://elsewhere.example/'), origin), false);
  assert.equal(isInAppClick(click(), a('/api/latest/fleet/carves/1/download'), origin), false);
  assert.equal(isInAppClick(click(), a('/x.csv', { download: '' }), origin), false);
  assert.equal(isInAppClick(click(), a('/hosts', { target: '_blank' }), origin), false);
  assert.equal(isInAppClick(click(), a('#main'), origin), false);
});
