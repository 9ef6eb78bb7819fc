// First-run setup and login: as whole pages at start, and as a dialog over the current page when
// a session expires (the page underneath, and what was typed in it, stays as it was).

import { h, replace } from './dom.js';
import { field, showFieldErrors } from './ui.js';

/** The setup form: the first admin. Resolves with the created user. */
export function setupForm(api, { onDone }) {
  const name = field({ label: 'Name', name: 'name', autocomplete: 'name', required: true });
  const email = field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = field({
    label: 'Password', name: 'password', type: 'password', autocomplete: 'new-password', required: true,
    hint: 'At least 12 characters, with a number and a symbol.',
  });
  const banner = h('div', { class: 'banner-slot' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create admin and sign in');
  const form = h(
    'form',
    { class: 'card auth', novalidate: true, 'aria-labelledby': 'setup-title' },
    h('h1', { id: 'setup-title' }, 'Set up Pomona'),
    h('p', { class: 'lede' }, 'No user exists yet. Create the first admin; more users can be added later.'),
    banner, name.el, email.el, password.el, submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const answer = await api.setup({ name: name.input.value.trim(), email: email.input.value.trim(), password: password.input.value });
      onDone(answer.admin);
    } catch (error) {
      // The server names the fields plainly (name, email, password) even though they come in `admin`.
      replace(banner, showFieldErrors([name, email, password], error));
    } finally {
      submit.disabled = false;
    }
  });
  return { el: form, focus: () => name.input.focus() };
}

/** The login form. `message` explains why it is shown (session expired). */
export function loginForm(api, { onDone, message = null }) {
  const email = field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const banner = h('div', { class: 'banner-slot' }, message ? h('div', { class: 'banner info', role: 'status' }, message) : null);
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card auth', novalidate: true, 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Sign in to Pomona'),
    banner, email.el, password.el, submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const answer = await api.login(email.input.value.trim(), password.input.value);
      password.input.value = '';
      onDone(answer.user);
    } catch (error) {
      replace(banner, showFieldErrors([email, password], error));
      if (error.status === 401) password.input.select();
    } finally {
      submit.disabled = false;
    }
  });
  return { el: form, focus: () => email.input.focus() };
}

/**
 * Shows the login dialog over the page and resolves once signed in again. Concurrent callers (every
 * request that got a 401) share one dialog.
 */
export function createReauth(api, overlay, { onUser }) {
  let pending = null;
  return function reauthenticate() {
    if (pending) return pending;
    pending = new Promise((resolve) => {
      const previousFocus = document.activeElement;
      const form = loginForm(api, {
        message: 'Your session ended. Sign in again to continue; this page keeps what you typed.',
        onDone: (user) => {
          overlay.hidden = true;
          replace(overlay);
          document.body.classList.remove('modal-open');
          pending = null;
          onUser(user);
          if (previousFocus && typeof previousFocus.focus === 'function') previousFocus.focus();
          resolve();
        },
      });
      replace(overlay, h('div', { class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'login-title' }, form.el));
      overlay.hidden = false;
      document.body.classList.add('modal-open');
      form.focus();
    });
    return pending;
  };
}
