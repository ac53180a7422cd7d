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
  let text, form, write, writeLabel, result, message, count, note, stop, copy, copyStatus, alert;
  let current = null; // the generation in flight: {controller, text, max}
  let copyTimer = 0;

  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
  // Code points, as the server counts them.
  const length = (value) => Array.from(value).length;

  function init() {
    text = JSON.parse($("page-text").textContent);
    form = $("compose");
    write = $("write");
    writeLabel = write.textContent;
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

    for (const chip of document.querySelectorAll(".chip")) {
      chip.addEventListener("click", () => {
        const input = $(chip.dataset.field);
        input.value = chip.dataset.value;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
    }
    form.addEventListener("input", (event) => {
      syncChips(event.target);
      setFieldError(event.target.name, "");
    });
    FIELDS.forEach((name) => syncChips($(name)));
  }

  function syncChips(input) {
    if (!input || !input.id) return;
    for (const chip of document.querySelectorAll(`.chip[data-field="${input.id}"]`)) {
      chip.setAttribute("aria-pressed", String(chip.dataset.value === input.value.trim()));
    }
  }

  function setFieldError(name, sentence) {
    const input = $(name);
    const slot = $(`${name}-error`);
    if (!input || !slot) return;
    slot.textContent = sentence;
    if (sentence) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function clearErrors() {
    FIELDS.forEach((name) => setFieldError(name, ""));
    alert.textContent = "";
  }

  // The browser's own constraint checks (required, maxlength, min, max), in our words.
  function checkFields() {
    let first = null;
    for (const name of FIELDS) {
      const input = $(name);
      if (input.validity.valid) continue;
      const rules = text.field_errors[name];
      setFieldError(name, input.validity.valueMissing ? rules.required : rules.rule);
      first = first || input;
    }
    if (first) {
      alert.textContent = text.errors.invalid_request;
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
    write.textContent = on ? text.writing : writeLabel;
    stop.hidden = !on;
    copy.hidden = on;
    $("regenerate").hidden = on;
    message.classList.toggle("streaming", on);
    // Screen readers wait for the whole message instead of reading every fragment.
    message.setAttribute("aria-busy", String(on));
  }

  function show(run) {
    message.textContent = run.text;
    count.textContent = fill(text.count, { n: length(run.text), max: run.max });
  }

  async function generate() {
    if (current) current.controller.abort();
    clearErrors();
    if (!checkFields()) return;
    const payload = body();
    const run = { controller: new AbortController(), text: "", max: payload.max_length || 200 };
    current = run;
    copyStatus.textContent = "";
    // The last message stays (dimmed) until the new one starts: a refusal must not lose it.
    message.classList.add("pending");
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
        const rules = text.field_errors[name];
        if (!rules || !$(name)) continue;
        setFieldError(name, fieldSentence(rules, String(why)));
        first = first || $(name);
      }
      if (first) first.focus();
    }
    end(run, code, parseInt(response.headers.get("Retry-After") || "", 10));
  }

  function fieldSentence(rules, why) {
    if (why.includes("control characters")) return text.field_errors.chars;
    return why === "required" || why === "must not be empty" ? rules.required : rules.rule;
  }

  function codeFor(status) {
    if (status === 429) return "rate_limited";
    if (status === 503) return "busy";
    if (status === 504) return "upstream_timeout";
    return status >= 500 ? "upstream_error" : "other";
  }

  // Server-Sent Events: blocks end with a blank line; comments (": ping") carry nothing.
  async function read(run, stream) {
    // A 200 means the model has accepted the request: the new message starts here.
    if (run === current) {
      message.classList.remove("pending");
      note.textContent = "";
      show(run);
    }
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
      run.text += event.data.text;
      show(run);
    } else if (event.name === "done") {
      run.text = event.data.message;
      show(run);
      if (event.data.finish_reason === "length") {
        note.textContent = fill(text.note_length, { max: run.max });
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
    message.classList.remove("pending");
    if (code === "stopped") {
      if (run.text) note.textContent = text.note_stopped;
    } else if (code) {
      let sentence = text.errors[code] || text.errors.other;
      if (RETRY_LATER.includes(code)) {
        sentence += " " + (seconds > 0 ? fill(text.retry_in, { seconds }) : text.retry_soon);
      }
      alert.textContent = sentence;
      if (run.text) note.textContent = text.note_partial;
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
    copyStatus.textContent = copied ? text.copied : text.copy_failed;
    copyStatus.classList.toggle("visible", !copied);
    copyTimer = setTimeout(() => {
      copy.textContent = text.copy;
      copy.classList.remove("done");
      if (copied) copyStatus.textContent = "";
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

  document.addEventListener("DOMContentLoaded", init);
})();
