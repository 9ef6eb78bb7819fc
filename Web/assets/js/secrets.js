// Enroll secrets (pure; unit-tested). The API takes the whole active set in one request
// (`POST /spec/enroll_secret`), so add, rotate and revoke are computed here as "the set after"
// and sent at once: a rotation adds the new secret and drops the old one in one transaction, and
// hosts never see a moment with neither.

/** A new secret: 32 random bytes, base64url (43 characters), from `randomBytes(n)` (crypto in the page). */
export function newSecret(randomBytes) {
  const bytes = randomBytes(32);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/**
 * The secret list after a change: `add` secrets appended, `revoke` secrets dropped. Refuses
 * (returns `{error}`) to leave no secret, which would stop every new host from enrolling, and to
 * revoke a secret that is not there (the page is out of date).
 * @param {{secret: string}[]} current
 */
export function secretsAfter(current, { add = [], revoke = [] } = {}) {
  const have = current.map((s) => s.secret);
  for (const r of revoke) if (!have.includes(r)) return { error: 'that secret is no longer active; refresh the page' };
  const kept = have.filter((s) => !revoke.includes(s));
  const next = [...kept, ...add.filter((a) => !kept.includes(a))];
  if (next.length === 0) return { error: 'at least one secret must stay active, or no new host can enroll; add one first' };
  return { secrets: next.map((secret) => ({ secret })) };
}

/** "FDOD…wOg": enough to tell secrets apart on screen without showing them whole. */
export function maskSecret(secret) {
  const s = String(secret ?? '');
  return s.length <= 10 ? '•'.repeat(s.length) : `${s.slice(0, 4)}…${s.slice(-3)}`;
}
