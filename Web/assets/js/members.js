// A manual label's host list (pure; unit-tested). `PATCH /labels/{id}` replaces the whole list, so
// adding or removing one host sends the current members with that one change.

/** Member ids after adding `add` and removing `remove`, order kept, no duplicates. */
export function membersAfter(current, { add = [], remove = [] } = {}) {
  const out = [];
  for (const id of [...current, ...add]) {
    if (remove.includes(id) || out.includes(id)) continue;
    out.push(id);
  }
  return out;
}
