// The form page, streaming: POST /v1/messages/stream is read as it arrives and written into the
// page with textContent. Without these browser features the form simply posts to / instead.
"use strict";

(() => {
  const capable =
    window.fetch && window.ReadableStream && window.AbortController && window.TextDecoder;
  if (!capable) return;
  // Set before the body is parsed, so the chips and buttons never flash in or out.
  document.documentElement.classList.add("js");

  const FIELDS = ["name", "relation", "reason", "manner", "max_length", "language", "draft"];
  const N = 3; // messages side by side (messagebot/web/page.py's PAGE_N)
  const RETRY_LATER = ["rate_limited", "busy", "server_shutdown"];
  const $ = (id) => document.getElementById(id);
  let text, form, write, result, stop, copyStatus, alert, working;
  let cards; // per message: {box, message, count, note, error, copy}
  let texts, ui; // every UI language's words, and the one shown
  let languageChosen = false; // the person picked the message's language themselves
  let current = null; // the generation in flight: {controller, texts, max, started, open}
  let copyTimer = 0;

  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
  // Code points, as the server counts them.
  const length = (value) => Array.from(value).length;
  // "errors.busy" -> text.errors.busy
  const lookup = (path) => path.split(".").reduce((node, key) => node && node[key], text);

  // Sets a text the script writes, remembering its keys so that a language switch can redraw it:
  // `parts` is a list of [key, values]; an empty list clears it.
  function say(element, parts) {
    element.dataset.said = JSON.stringify(parts);
    element.textContent = parts.map(([key, values]) => fill(lookup(key), values || {})).join(" ");
  }

  function init() {
    const data = JSON.parse($("page-text").textContent);
    texts = data.texts;
    ui = data.ui;
    text = texts[ui];
    form = $("compose");
    write = $("write");
    working = $("working");
    result = $("result");
    cards = Array.from(document.querySelectorAll(".choice"), (box) => {
      const part = (name) => box.querySelector(`.${name}`);
      return {
        box,
        message: part("message"),
        count: part("count"),
        note: part("note"),
        error: part("choice-error"),
        copy: part("copy"),
      };
    });
    stop = $("stop");
    copyStatus = $("copy-status");
    alert = $("form-error");

    // Our own checks speak the page's language; the browser's bubbles speak the browser's.
    form.noValidate = true;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      generate();
    });
    requireWithoutDraft();
    stop.addEventListener("click", () => current && current.controller.abort());
    for (const card of cards) {
      card.copy.addEventListener("click", () => copyMessage(card));
      // A refinement rewrites this card's message as a draft, keeping the form's other fields.
      card.box.querySelector("form.refine").addEventListener("submit", (event) => {
        event.preventDefault();
        const button = event.submitter;
        if (!button || !card.message.textContent) return;
        const refinement = text.refinements[Number(button.dataset.refinement)];
        generate({ draft: card.message.textContent, manner: refinement[1] }, cards.indexOf(card));
      });
    }
    $("regenerate").addEventListener("click", () => generate());
    $("draft").addEventListener("input", requireWithoutDraft);

    // Delegated: a language switch draws the chips anew.
    form.addEventListener("click", (event) => {
      const chip = event.target.closest(".chip");
      if (!chip) return;
      const input = $(chip.dataset.field);
      input.value = chip.dataset.value;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    form.addEventListener("input", (event) => {
      syncChips(event.target);
      setFieldError(event.target.name, "");
      if (event.target.id === "language") languageChosen = true;
    });
    // The switch's buttons submit the form to /language without JavaScript; here, in place.
    for (const link of document.querySelectorAll("button[data-ui]")) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        switchLanguage(link.dataset.ui);
      });
    }
    FIELDS.forEach((name) => syncChips($(name)));
  }

  // With a draft of one's own, who and what for are optional (the server's rule too).
  function requireWithoutDraft() {
    const needed = !$("draft").value.trim();
    $("relation").required = needed;
    $("reason").required = needed;
  }

  function syncChips(input) {
    if (!input || !input.id) return;
    for (const chip of document.querySelectorAll(`.chip[data-field="${input.id}"]`)) {
      chip.setAttribute("aria-pressed", String(chip.dataset.value === input.value.trim()));
    }
  }

  // `key`: the sentence's place in the texts ("field_errors.reason.required"), or "" to clear.
  function setFieldError(name, key) {
    const input = $(name);
    const slot = $(`${name}-error`);
    if (!input || !slot) return;
    say(slot, key ? [[key]] : []);
    if (key) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function clearErrors() {
    FIELDS.forEach((name) => setFieldError(name, ""));
    say(alert, []);
  }

  // The browser's own constraint checks (required, maxlength, min, max), in our words.
  function checkFields() {
    let first = null;
    for (const name of FIELDS) {
      const input = $(name);
      if (input.validity.valid) continue;
      const rule = input.validity.valueMissing ? "required" : "rule";
      setFieldError(name, `field_errors.${name}.${rule}`);
      first = first || input;
    }
    if (first) {
      say(alert, [["errors.invalid_request"]]);
      first.focus();
    }
    return !first;
  }

  function body() {
    const data = new FormData(form);
    const out = { n: N };
    for (const name of FIELDS) {
      const value = String(data.get(name) || "");
      if (!value.trim()) continue; // empty optional fields take the server's defaults
      out[name] = name === "max_length" && /^\d+$/.test(value.trim()) ? Number(value) : value;
    }
    return out;
  }

  function token() {
    const meta = document.querySelector('meta[name="messagebot-token"]');
    return meta ? meta.content : "";
  }

  function setStreaming(on) {
    write.disabled = on;
    write.textContent = on ? text.writing : text.submit;
    stop.hidden = !on;
    $("regenerate").hidden = on;
    for (const card of cards) {
      card.copy.hidden = on;
      streaming(card, on);
    }
  }

  function streaming(card, on) {
    card.message.classList.toggle("streaming", on);
    // Screen readers wait for the whole message instead of reading every fragment.
    card.message.setAttribute("aria-busy", String(on));
    // A message half written is not one to refine yet.
    for (const button of card.box.querySelectorAll(".refinement")) button.disabled = on;
  }

  function show(run, index) {
    const card = cards[index];
    const value = run.texts[index];
    card.message.textContent = value;
    card.box.classList.toggle("empty", !value);
    say(card.count, value ? [["count", { n: length(value), max: run.max }]] : []);
  }

  // The first text of a new message: it replaces the last one only now, so a retry that fails
  // or is stopped before it writes anything leaves the message on screen as it was.
  function begin(run) {
    if (run.started) return;
    run.started = true;
    say(working, []);
    run.targets.forEach((index) => {
      const card = cards[index];
      card.message.classList.remove("pending");
      say(card.note, []);
      say(card.error, []);
      show(run, index);
    });
    for (const [index, code] of run.pendingErrors || []) failCard(run, index, code);
  }

  // `refine`: {draft, manner} of card `target`'s refinement, which take the place of the
  // form's: one message, written in place of that card's (the others stay), as the form does.
  async function generate(refine, target) {
    if (current) current.controller.abort();
    clearErrors();
    if (!refine && !checkFields()) return;
    // The cards this run writes, by the index of the message in the stream.
    const targets = refine ? [target] : Array.from({ length: N }, (_, index) => index);
    const payload = { ...body(), ...(refine || {}), n: targets.length };
    const run = {
      controller: new AbortController(),
      texts: Array(N).fill(""),
      targets,
      open: new Set(targets),
      failed: [],
      max: payload.max_length || 200,
      started: false,
    };
    current = run;
    say(copyStatus, []);
    // The last message stays (dimmed) until the new one's first words: a refusal, a failure or
    // Stop before them must not lose it. Meanwhile a live region says the model is at work.
    for (const index of targets) cards[index].message.classList.add("pending");
    say(working, [["working"]]);
    result.hidden = false;
    setStreaming(true);
    stop.focus({ preventScroll: true });
    const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
    result.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });

    try {
      const response = await fetch("/v1/messages/stream", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "text/event-stream",
          "X-Page-Token": token(),
        },
        body: JSON.stringify(payload),
        signal: run.controller.signal,
        cache: "no-store",
      });
      if (response.ok) await read(run, response.body);
      else await refused(run, response);
    } catch (error) {
      // Stop aborts the fetch; the server sees the connection close and stops the model.
      end(run, run.controller.signal.aborted ? "stopped" : "network");
    }
  }

  // A plain HTTP error before the stream started: {"error": {code, message, fields?}}.
  async function refused(run, response) {
    let problem = {};
    try {
      const data = await response.json();
      if (data && data.error && typeof data.error === "object") problem = data.error;
    } catch (error) {
      // not JSON (a proxy's error page, say): the status decides
    }
    const code = typeof problem.code === "string" ? problem.code : codeFor(response.status);
    if (code === "invalid_request" && problem.fields && typeof problem.fields === "object") {
      let first = null;
      for (const [name, why] of Object.entries(problem.fields)) {
        if (!text.field_errors[name] || !$(name)) continue;
        setFieldError(name, fieldSentence(name, String(why)));
        first = first || $(name);
      }
      if (first) first.focus();
    }
    end(run, code, parseInt(response.headers.get("Retry-After") || "", 10));
  }

  function fieldSentence(name, why) {
    if (why.includes("control characters")) return "field_errors.chars";
    const rule = why === "required" || why === "must not be empty" ? "required" : "rule";
    return `field_errors.${name}.${rule}`;
  }

  function codeFor(status) {
    if (status === 429) return "rate_limited";
    if (status === 503) return "busy";
    if (status === 504) return "upstream_timeout";
    return status >= 500 ? "upstream_error" : "other";
  }

  // Server-Sent Events: blocks end with a blank line; comments (": ping") carry nothing.
  async function read(run, stream) {
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = parse(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (event && handle(run, event)) {
          reader.cancel().catch(() => {});
          return;
        }
      }
    }
    end(run, "upstream_error"); // the stream ended without done or error
  }

  function parse(block) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
    return data.length ? { name, data: JSON.parse(data.join("\n")) } : null;
  }

  // True once the stream has said its last word.
  function handle(run, event) {
    if (run !== current) return true;
    const index = run.targets[Number(event.data.index || 0)]; // the card it goes to
    if (event.name !== "start" && index === undefined) return false; // never asked for: ignored
    if (event.name === "start") {
      // Fewer than asked (never more): the cards past them stay empty.
      const n = Math.min(run.targets.length, Number(event.data.n) || 1);
      for (const past of run.targets.slice(n)) run.open.delete(past);
    } else if (event.name === "delta") {
      if (!event.data.text) return false;
      begin(run);
      run.texts[index] += event.data.text;
      show(run, index);
    } else if (event.name === "done") {
      begin(run);
      run.texts[index] = event.data.message;
      show(run, index);
      if (event.data.finish_reason === "length") {
        say(cards[index].note, [["note_length", { max: run.max }]]);
      }
      return settle(run, index);
    } else if (event.name === "error") {
      // One message failed: its card says so, the others go on.
      const code = String(event.data.code || "other");
      run.failed.push(code);
      if (run.started) failCard(run, index, code);
      else run.pendingErrors = [...(run.pendingErrors || []), [index, code]];
      return settle(run, index);
    }
    return false;
  }

  function failCard(run, index, code) {
    const card = cards[index];
    say(card.error, [[code in text.errors ? `errors.${code}` : "errors.other"]]);
    if (run.texts[index]) say(card.note, [["note_partial"]]);
  }

  // Message `index` has ended; true once every message has.
  function settle(run, index) {
    run.open.delete(index);
    streaming(cards[index], false);
    if (run.open.size) return false;
    if (!run.started) {
      end(run, run.failed[0] || "upstream_error"); // nothing new: the last messages stay
    } else {
      // All failed: the form says it too, as a refusal would.
      end(run, run.failed.length >= run.targets.length ? run.failed[0] : null);
    }
    return true;
  }

  // The generation is over: finished (code null), stopped, or failed with `code`.
  function end(run, code, seconds) {
    if (run !== current) return;
    current = null;
    const active = document.activeElement;
    const hadFocus = active === stop || active === document.body;
    setStreaming(false);
    say(working, []);
    for (const card of cards) card.message.classList.remove("pending");
    if (code === "stopped") {
      run.texts.forEach((value, index) => value && say(cards[index].note, [["note_stopped"]]));
    } else if (code) {
      const sentence = [[code in text.errors ? `errors.${code}` : "errors.other"]];
      if (RETRY_LATER.includes(code)) {
        sentence.push(seconds > 0 ? ["retry_in", { seconds }] : ["retry_soon"]);
      }
      say(alert, sentence);
      run.texts.forEach((value, index) => {
        if (value && !cards[index].note.textContent) say(cards[index].note, [["note_partial"]]);
      });
    }
    if (!cards.some((card) => card.message.textContent)) {
      result.hidden = true;
      if (hadFocus) write.focus();
    } else if (hadFocus) {
      cards[0].copy.focus();
    }
  }

  async function copyMessage(card) {
    const copy = card.copy;
    let copied = false;
    try {
      await navigator.clipboard.writeText(card.message.textContent);
      copied = true;
    } catch (error) {
      copied = copyBySelection(card.message);
    }
    for (const other of cards) {
      if (other === card) continue;
      other.copy.textContent = text.copy;
      other.copy.classList.remove("done");
    }
    clearTimeout(copyTimer);
    copy.textContent = copied ? `✓ ${text.copied}` : text.copy;
    copy.classList.toggle("done", copied);
    say(copyStatus, [[copied ? "copied" : "copy_failed"]]);
    copyStatus.classList.toggle("visible", !copied);
    copyTimer = setTimeout(() => {
      copy.textContent = text.copy;
      copy.classList.remove("done");
      if (copied) say(copyStatus, []);
    }, 2000);
  }

  // Pages served over plain http (not localhost) have no navigator.clipboard.
  function copyBySelection(message) {
    const range = document.createRange();
    range.selectNodeContents(message);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  // 한국어 | English, in place: every word of the page changes, and nothing the person typed or
  // was given. A request for /?lang= in the background makes the server remember the choice.
  function switchLanguage(next) {
    if (next === ui || !texts[next]) return;
    const previous = ui;
    ui = next;
    text = texts[next];
    document.documentElement.lang = next;
    document.title = text.title;
    for (const element of document.querySelectorAll("[data-t]")) {
      element.textContent = lookup(element.dataset.t);
    }
    for (const input of document.querySelectorAll("[data-t-placeholder]")) {
      input.placeholder = lookup(input.dataset.tPlaceholder);
    }
    for (const element of document.querySelectorAll("[data-said]")) {
      say(element, JSON.parse(element.dataset.said));
    }
    for (const link of document.querySelectorAll("button[data-ui]")) {
      if (link.dataset.ui === next) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    document.querySelector(".langs").setAttribute("aria-label", text.switch_label);
    form.elements.ui.value = next;
    drawChoices();
    // The message's language follows the page's until the person picks one.
    const language = $("language");
    if (!languageChosen && language.value === previous) language.value = next;
    if (current) write.textContent = text.writing;
    for (const card of cards) {
      if (card.copy.classList.contains("done")) card.copy.textContent = `✓ ${text.copied}`;
      card.box.setAttribute("aria-label", fill(text.choice, { i: cards.indexOf(card) + 1 }));
      for (const button of card.box.querySelectorAll(".refinement")) {
        const [label, manner] = text.refinements[Number(button.dataset.refinement)];
        button.textContent = label;
        button.value = manner;
      }
    }
    fetch(`/?lang=${encodeURIComponent(next)}`, { cache: "no-store" }).catch(() => {});
  }

  // The suggestion chips and the type-ahead lists, in the page's language.
  function drawChoices() {
    const lists = { relation: "relations", reason: "reasons", manner: "manners" };
    for (const [field, key] of Object.entries(lists)) {
      const list = $(`${field}-list`);
      if (list) list.replaceChildren(...text[key].map((value) => new Option("", value)));
    }
    for (const group of document.querySelectorAll(".chips")) {
      const first = group.querySelector(".chip");
      if (!first) continue;
      const field = first.dataset.field;
      group.setAttribute("aria-label", `${text.suggestions}: ${text[field]}`);
      const items =
        field === "max_length"
          ? text.length_chips
          : text[`${field}_chips`].map((value) => [value, null]);
      group.replaceChildren(
        ...items.map(([label, size]) => {
          const chip = document.createElement("button");
          chip.type = "button";
          chip.className = "chip";
          chip.dataset.field = field;
          chip.dataset.value = String(size === null ? label : size);
          chip.textContent = label;
          if (size !== null) {
            const n = document.createElement("span");
            n.className = "n";
            n.textContent = String(size);
            chip.append(" ", n);
          }
          return chip;
        }),
      );
      syncChips($(field));
    }
  }

  document.addEventListener("DOMContentLoaded", init);
})();
