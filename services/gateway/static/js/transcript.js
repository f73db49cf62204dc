/* A live transcript: partials replaced in place by their finals, sticky scroll.
 *
 * Lines are keyed by seq+speaker (one view per call, so the call is implied). A final replaces
 * the partial of the same key in place; a late partial never overwrites a final. Lines are kept
 * in seq order (same seq: customer before agent). Auto-scroll follows the newest line unless
 * the reader has scrolled up; then a "back to latest" button counts what is new.
 */
import { h, setText } from "./dom.js";
import { emotionLabel, fmtDuration, renderRedacted } from "./format.js";
import { t } from "./i18n.js";

export class TranscriptView {
  constructor(scroller, jumpButton) {
    this.scroller = scroller;
    this.list = h("ol", { class: "lines" });
    this.empty = h("p", { class: "empty muted", "data-i18n": "transcript.empty" }, t("transcript.empty"));
    scroller.append(this.empty, this.list);
    this.lines = new Map(); // key -> {el, text, emo, seq, speaker, final, emotion}
    this.maxFinalSeq = -1;
    this.stick = true;
    this.unseen = 0;
    this.jump = jumpButton;
    scroller.addEventListener("scroll", () => {
      const near = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
      if (near !== this.stick) {
        this.stick = near;
        if (near) this.unseen = 0;
        this.renderJump();
      }
    }, { passive: true });
    if (jumpButton) {
      jumpButton.addEventListener("click", () => {
        this.stick = true;
        this.unseen = 0;
        this.scrollToEnd();
        this.renderJump();
      });
    }
    this.renderJump();
  }

  renderJump() {
    if (!this.jump) return;
    this.jump.hidden = this.stick;
    setText(this.jump, this.unseen > 0 ? t("transcript.latest.n", { n: this.unseen }) : t("transcript.latest"));
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** Highest seq such that no earlier line we know of is still a partial (for resume). */
  afterSeq() {
    let after = this.maxFinalSeq;
    this.lines.forEach((line) => {
      if (!line.final && line.seq <= after) after = Math.min(after, line.seq - 1);
    });
    return after;
  }

  /** A `transcript` message: a partial or a final. */
  upsert(msg) {
    if (typeof msg.seq !== "number" || (msg.speaker !== "agent" && msg.speaker !== "customer")) return;
    const isFinal = msg.is_final !== false;
    const key = msg.seq + "|" + msg.speaker;
    let line = this.lines.get(key);
    if (line && line.final && !isFinal) return; // a late partial never overwrites a final
    if (!line) {
      line = this.makeLine(msg);
      this.lines.set(key, line);
      this.insertOrdered(line);
      if (!this.stick) this.unseen++;
    }
    line.final = isFinal;
    line.el.dataset.final = isFinal ? "true" : "false";
    line.el.classList.toggle("partial", !isFinal);
    renderRedacted(line.text, msg.text);
    const showEmotion = isFinal && msg.speaker === "customer" && msg.emotion && msg.emotion !== "neutral" &&
      (msg.emotion_score || 0) >= 0.5;
    line.emo.hidden = !showEmotion;
    line.emo.dataset.emotion = showEmotion ? msg.emotion : "";
    line.emotion = msg.emotion;
    setText(line.emo, showEmotion ? emotionLabel(msg.emotion) : "");
    if (isFinal && msg.seq > this.maxFinalSeq) this.maxFinalSeq = msg.seq;
    this.empty.hidden = true;
    if (this.stick) this.scrollToEnd();
    this.renderJump();
  }

  makeLine(msg) {
    const who = msg.speaker;
    const emo = h("span", { class: "emo", hidden: true });
    const text = h("div", { class: "text" });
    const el = h("li", {
      class: "line " + who,
      "data-testid": "transcript-line",
      dataset: { seq: msg.seq, speaker: who, final: msg.is_final !== false ? "true" : "false" },
    },
    h("div", { class: "meta" },
      h("span", { class: "who", "data-i18n": "speaker." + who }, t("speaker." + who)),
      h("span", { class: "at" }, msg.start_ms ? fmtDuration(msg.start_ms) : ""),
      emo),
    text);
    return { el, text, emo, seq: msg.seq, speaker: who, final: false };
  }

  insertOrdered(line) {
    // Usually the newest: compare with the tail first, walk back only when out of order.
    let node = this.list.lastElementChild;
    while (node && Number(node.dataset.seq) > line.seq) node = node.previousElementSibling;
    if (node && Number(node.dataset.seq) === line.seq && node.dataset.speaker === "agent" && line.speaker === "customer") {
      node = node.previousElementSibling;
    }
    this.list.insertBefore(line.el, node ? node.nextElementSibling : this.list.firstElementChild);
  }

  /** After a language switch: the words this view wrote itself. */
  relabel() {
    this.lines.forEach((line) => {
      if (!line.emo.hidden) setText(line.emo, emotionLabel(line.emotion));
    });
    this.renderJump();
  }
}

/** A transcript box in `box` (emptied): the scroller, the jump button and its view. */
export function transcriptBox(box, attrs) {
  const scroller = h("div", { class: "transcript", tabindex: "0", ...attrs });
  const jump = h("button", { type: "button", class: "btn jump", "data-testid": "btn-latest", hidden: true });
  box.replaceChildren(scroller, jump);
  return new TranscriptView(scroller, jump);
}
