/* What every messaging page shares: copy buttons, suggestions that warn when a typed
 * value matches nothing, a customer picker (by name or phone), and JSON calls to the API
 * with the page's CSRF token. Plain JavaScript, nothing fetched from another host. */
(function () {
  "use strict";

  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const lang = document.documentElement.lang === "en" ? "en" : "vi";

  function number(n) {
    const digits = Math.abs(Math.round(n)).toString()
      .replace(/\B(?=(\d{3})+(?!\d))/g, lang === "en" ? "," : ".");
    return (n < 0 ? "-" : "") + digits;
  }

  function money(n) {
    return lang === "en" ? "₫" + number(n) : number(n) + " ₫";
  }

  /** A JSON call: resolves to {status, body}; never rejects (a network failure is status 0). */
  function api(method, path, body) {
    const init = { method: method, headers: { "Accept": "application/json" } };
    if (method !== "GET") init.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then((r) => r.text().then((text) => {
      let parsed = null;
      try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = { error: { message: text } }; }
      return { status: r.status, body: parsed };
    })).catch((e) => ({ status: 0, body: { error: { message: String(e) } } }));
  }

  function debounce(fn, ms) {
    let timer = null;
    return function () {
      const args = arguments;
      clearTimeout(timer);
      timer = setTimeout(() => fn.apply(null, args), ms);
    };
  }

  // -- copy buttons ----------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.copy[data-copy]");
    if (!button) return;
    const text = button.getAttribute("data-copy");
    const done = () => { button.classList.add("copied"); setTimeout(() => button.classList.remove("copied"), 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => select(button));
    } else {
      select(button);
    }
  });

  function select(button) {
    const code = button.parentElement.querySelector("code");
    if (!code) return;
    const range = document.createRange();
    range.selectNodeContents(code);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  // -- suggestions: an input with list="…" and data-must-match warns on an unknown value --
  function checkSuggestion(input) {
    const list = input.list;
    const warning = document.getElementById(input.getAttribute("data-warning") || "");
    if (!list || !warning) return;
    const values = input.value.split(input.hasAttribute("data-many") ? "," : "\u0000")
      .map((v) => v.trim()).filter((v) => v !== "");
    const known = new Set(Array.from(list.options).map((o) => o.value));
    const unknown = values.filter((v) => !known.has(v));
    warning.hidden = unknown.length === 0;
    if (unknown.length) {
      warning.textContent = (warning.getAttribute("data-text") || "{value}").replace("{value}", unknown.join(", "));
    }
  }

  function watchSuggestions(root) {
    (root || document).querySelectorAll("input[data-must-match]").forEach((input) => {
      if (input.dataset.watched) return;
      input.dataset.watched = "1";
      input.addEventListener("input", () => checkSuggestion(input));
      input.addEventListener("change", () => checkSuggestion(input));
      if (input.value) checkSuggestion(input);
    });
  }

  // -- the customer picker ---------------------------------------------------------------
  /** An input where a name or a phone is typed; suggestions come from
   * GET /api/profiles/search and a chosen one calls onPick({profile_id, name, phone}). */
  function customerPicker(input, list, onPick, warning) {
    let found = [];
    let asked = "";
    const label = (p) => [p.name || "—", p.phone || p.email || "", p.profile_id].filter(Boolean).join(" · ");
    const search = debounce(() => {
      const q = input.value.trim();
      const chosen = found.find((p) => label(p) === q);
      if (chosen) { if (warning) warning.hidden = true; onPick(chosen); return; }
      if (q.length < 2 || q === asked) return;
      asked = q;
      api("GET", "/api/profiles/search?limit=10&q=" + encodeURIComponent(q)).then((answer) => {
        if (input.value.trim() !== q) return;
        found = answer.status === 200 ? answer.body : [];
        list.innerHTML = "";
        found.forEach((p) => {
          const option = document.createElement("option");
          option.value = label(p);
          list.appendChild(option);
        });
        if (warning) warning.hidden = found.length > 0;
        if (found.length === 1 && !/\s·\s/.test(q) && found[0].phone && q.replace(/\D/g, "").length >= 9) {
          input.value = label(found[0]);
          onPick(found[0]);
        }
      });
    }, 250);
    input.addEventListener("input", search);
    input.addEventListener("change", search);
    return { label: label };
  }

  window.SenMessaging = { api: api, debounce: debounce, number: number, money: money,
    lang: lang, watchSuggestions: watchSuggestions, customerPicker: customerPicker };
  document.addEventListener("DOMContentLoaded", () => watchSuggestions(document));
  if (document.readyState !== "loading") watchSuggestions(document);
})();
