// The form page, streaming: POST /v1/messages/stream is read as it arrives and written into the
// page with textContent. Without these browser features the form simply posts to / instead.
"use strict";

(() => {
  const capable =
    window.fetch && window.ReadableStream && window.AbortController && window.TextDecoder;
  if (!capable) return;
  // Set before the body is parsed, so the chips and buttons never flash in or out.
  document.documentElement.classList.add("js");

  const FIELDS = ["name", "relation", "reason", "manner", "max_length", "language"];
  const RETRY_LATER = ["rate_limited", "busy", "server_shutdown"];
  const $ = (id) => document.getElementById(id);
  let text, form, write, result, message, count, note, stop, copy, copyStatus, alert, working;
  let texts, ui; // every UI language's words, and the one shown
  let languageChosen = false; // the person picked the message's language themselves
  let current = null; // the generation in flight: {controller, text, max, started}
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
    message = $("message");
    count = $("count");
    note = $("note");
    stop = $("stop");
    copy = $("copy");
    copyStatus = $("copy-status");
    alert = $("form-error");

    // Our own checks speak the page's language; the browser's bubbles speak the browser's.
    form.noValidate = true;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      generate();
    });
    stop.addEventListener("click", () => current && current.controller.abort());
    copy.addEventListener("click", copyMessage);
    $("regenerate").addEventListener("click", generate);

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
    for (const link of document.querySelectorAll("a[data-ui]")) {
      link.addEventListener("click", (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        switchLanguage(link.dataset.ui);
      });
    }
    FIELDS.forEach((name) => syncChips($(name)));
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
    const out = {};
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
    copy.hidden = on;
    $("regenerate").hidden = on;
    message.classList.toggle("streaming", on);
    // Screen readers wait for the whole message instead of reading every fragment.
    message.setAttribute("aria-busy", String(on));
  }

  function show(run) {
    message.textContent = run.text;
    say(count, [["count", { n: length(run.text), max: run.max }]]);
  }

  // The first text of a new message: it replaces the last one only now, so a retry that fails
  // or is stopped before it writes anything leaves the message on screen as it was.
  function begin(run) {
    if (run.started) return;
    run.started = true;
    say(working, []);
    message.classList.remove("pending");
    say(note, []);
  }

  async function generate() {
    if (current) current.controller.abort();
    clearErrors();
    if (!checkFields()) return;
    const payload = body();
    const run = {
      controller: new AbortController(),
      text: "",
      max: payload.max_length || 200,
      started: false,
    };
    current = run;
    say(copyStatus, []);
    // The last message stays (dimmed) until the new one's first words: a refusal, a failure or
    // Stop before them must not lose it. Meanwhile a live region says the model is at work.
    message.classList.add("pending");
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
    if (event.name === "delta") {
      if (!event.data.text) return false;
      begin(run);
      run.text += event.data.text;
      show(run);
    } else if (event.name === "done") {
      begin(run);
      run.text = event.data.message;
      show(run);
      if (event.data.finish_reason === "length") {
        say(note, [["note_length", { max: run.max }]]);
      }
      end(run, null);
      return true;
    } else if (event.name === "error") {
      end(run, String(event.data.code || "other"));
      return true;
    }
    return false;
  }

  // The generation is over: finished (code null), stopped, or failed with `code`.
  function end(run, code, seconds) {
    if (run !== current) return;
    current = null;
    const active = document.activeElement;
    const hadFocus = active === stop || active === document.body;
    setStreaming(false);
    say(working, []);
    message.classList.remove("pending");
    if (code === "stopped") {
      if (run.text) say(note, [["note_stopped"]]);
    } else if (code) {
      const sentence = [[code in text.errors ? `errors.${code}` : "errors.other"]];
      if (RETRY_LATER.includes(code)) {
        sentence.push(seconds > 0 ? ["retry_in", { seconds }] : ["retry_soon"]);
      }
      say(alert, sentence);
      if (run.text) say(note, [["note_partial"]]);
    }
    if (!message.textContent) {
      result.hidden = true;
      if (hadFocus) write.focus();
    } else if (hadFocus) {
      copy.focus();
    }
  }

  async function copyMessage() {
    let copied = false;
    try {
      await navigator.clipboard.writeText(message.textContent);
      copied = true;
    } catch (error) {
      copied = copyBySelection();
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
  function copyBySelection() {
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
    for (const link of document.querySelectorAll("a[data-ui]")) {
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
    if (copy.classList.contains("done")) copy.textContent = `✓ ${text.copied}`;
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
