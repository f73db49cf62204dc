/* A page's state, drawn at most once per animation frame.
 *
 * Socket messages arrive many times a frame on a busy desk or wall; they only change the
 * state and say what changed (store.mark("tabs", callId, …)). One requestAnimationFrame
 * pass then calls render(state, changed) with everything marked since the last pass, so the
 * DOM is written once per frame, whatever the message rate.
 */
export class Store {
  constructor(state, render) {
    this.state = state;
    this.render = render;
    this.changed = new Set();
    this.frame = 0;
  }

  /** Note what changed and draw at the next frame. */
  mark(...what) {
    for (const w of what) this.changed.add(w);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** Draw now what is marked (e.g. before reading the DOM back). */
  flush() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (!this.changed.size) return;
    const changed = this.changed;
    this.changed = new Set();
    this.render(this.state, changed);
  }
}
