/* localStorage / sessionStorage that never throws: storage full, blocked or absent, the page still
 * works and only forgets. `area` is "localStorage" or "sessionStorage". */

export function load(area, key) {
  try {
    return window[area].getItem(key);
  } catch (e) {
    return null;
  }
}

/** Save `value` under `key`; null removes it. */
export function save(area, key, value) {
  try {
    if (value === null || value === undefined) window[area].removeItem(key);
    else window[area].setItem(key, value);
  } catch (e) {
    /* storage full or blocked: the page still works, it only forgets */
  }
}

/** Every key of `area` that starts with `prefix`. */
export function keys(area, prefix) {
  const out = [];
  try {
    const store = window[area];
    for (let i = 0; i < store.length; i++) {
      const k = store.key(i);
      if (k && k.startsWith(prefix)) out.push(k);
    }
  } catch (e) {
    /* no storage: nothing kept */
  }
  return out;
}
