/* The template editor: the parts of the template's channel, problems beside the part they
 * are about, and a live preview for a real customer.
 *
 * 300 ms after the last change it asks POST /api/templates/check (problems) and, once a
 * customer is chosen, POST /api/templates/preview (the message as sent to her; for SMS the
 * encoding, characters, parts and cost of the accented and the stripped text). One request
 * of each kind at a time; an answer about a draft that has changed since is dropped. Save
 * PUTs /api/templates/{name}: every problem comes back in place and nothing typed is lost.
 */
(function () {
  "use strict";

  const S = window.SenMessaging;
  const setupEl = document.getElementById("editor-setup");
  const form = document.getElementById("template-form");
  if (!S || !setupEl || !form) return;
  const setup = JSON.parse(setupEl.textContent);
  const lang = setup.lang;
  const t = (key) => setup.words[key] || key;
  const $ = (id) => document.getElementById(id);
  const fieldNames = new Set(setup.fields.map((f) => f.name));
  const saved = setup.template;
  let version = saved ? saved.version : null;
  let customer = setup.customer;
  let lastFocused = $("tpl-body");

  // -- the draft ---------------------------------------------------------------------------
  function channel() { return $("tpl-channel").value; }

  function paramRows() {
    return Array.from(document.querySelectorAll("#zns-params tbody tr"));
  }

  function draft() {
    const ch = channel();
    const d = { name: $("tpl-name").value.trim() || "draft", title: $("tpl-title").value.trim() || "-",
      channel: ch, purpose: $("tpl-purpose").value, body: "" };
    if (ch === "sms" || ch === "email" || ch === "push") d.body = $("tpl-body").value;
    if (ch === "sms") d.strip_diacritics = $("tpl-strip").checked;
    if (ch === "email") { d.subject = $("tpl-subject").value; d.html = $("tpl-html").value || null; }
    if (ch === "push") d.push = { title: $("tpl-push-title").value, url: $("tpl-push-url").value.trim(), icon: "" };
    if (ch === "zalo") {
      const params = {};
      paramRows().forEach((row) => {
        const name = row.querySelector(".param-name").value.trim();
        if (name) params[name] = row.querySelector(".param-field").value;
      });
      d.zns = { template_id: $("tpl-zns-id").value.trim(), params: params };
    }
    return d;
  }

  // -- parts of the channel ----------------------------------------------------------------
  function showParts() {
    const ch = channel();
    document.querySelectorAll(".part").forEach((el) => {
      el.hidden = !el.getAttribute("data-channels").split(" ").includes(ch);
    });
    ["sms", "email", "push"].forEach((c) => {
      document.querySelectorAll(".label-" + c).forEach((el) => { el.hidden = c !== ch; });
    });
  }

  function addParam(name, value) {
    const row = document.createElement("tr");
    row.innerHTML = '<td><input class="param-name" pattern="[A-Za-z0-9_]{1,60}" maxlength="60"></td>' +
      '<td><input class="param-field" list="field-names" autocomplete="off">' +
      '<p class="suggest-warning param-warning" hidden></p>' +
      '<p class="field-problem param-problem" role="alert" hidden></p></td>' +
      '<td><button type="button" class="small remove-param"></button></td>';
    row.querySelector(".param-name").value = name || "";
    row.querySelector(".param-name").setAttribute("aria-label", t("editor.param"));
    row.querySelector(".param-field").value = value || "";
    row.querySelector(".param-field").setAttribute("aria-label", t("editor.param_field"));
    row.querySelector(".remove-param").textContent = t("editor.remove");
    $("zns-params").querySelector("tbody").appendChild(row);
    checkParamField(row);
    return row;
  }

  /** A mapped field that is a bare name must be a customer field (expressions are checked
   * by the server). */
  function checkParamField(row) {
    const value = row.querySelector(".param-field").value.trim();
    const warning = row.querySelector(".param-warning");
    const unknown = /^[A-Za-z_][A-Za-z0-9_]*$/.test(value) && !fieldNames.has(value);
    warning.hidden = !unknown;
    if (unknown) warning.textContent = t("form.unknown").replace("{value}", value);
  }

  // -- problems beside their part ----------------------------------------------------------
  function slotFor(field) {
    if (field && field.startsWith("zns.params.")) {
      const param = field.slice("zns.params.".length);
      const row = paramRows().find((r) => r.querySelector(".param-name").value.trim() === param);
      if (row) return row.querySelector(".param-problem");
    }
    let key = field || "_";
    while (key) {
      const el = document.querySelector('[data-slot="' + key + '"]');
      if (el && !el.closest(".part[hidden]")) return el;
      key = key.includes(".") ? key.slice(0, key.lastIndexOf(".")) : "";
    }
    return document.querySelector('[data-slot="_"]');
  }

  function clearProblems() {
    document.querySelectorAll("[data-slot], .param-problem").forEach((el) => {
      el.hidden = true; el.textContent = ""; el.classList.remove("warning");
    });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  }

  function showProblems(problems) {
    clearProblems();
    problems.forEach((p) => {
      const slot = slotFor(p.field);
      const text = (p.message && (p.message[lang] || p.message.vi)) || p.text || "";
      slot.textContent = slot.hidden || !slot.textContent ? text : slot.textContent + " " + text;
      slot.hidden = false;
      if (p.severity === "warning" && !slot.classList.contains("error")) slot.classList.add("warning");
      const label = slot.previousElementSibling;
      const input = label && label.tagName === "LABEL" ? label.querySelector("input, textarea") : null;
      if (input && p.severity !== "warning") input.setAttribute("aria-invalid", "true");
    });
  }

  /** An API error without a problems list, in her words where its rule is known. */
  function errorProblem(body) {
    const err = (body && body.error) || {};
    const words = { missing: "form.rule.missing", string_too_short: "form.rule.missing",
      string_pattern_mismatch: "form.rule.pattern", string_too_long: "form.rule.too_long" };
    let text = err.message || "";
    if (err.type === "ConflictError") text = t("editor.conflict") + " " + (err.hint || "");
    else if (words[err.rule]) text = t(words[err.rule]);
    return { field: err.field || "_", severity: "error", text: text };
  }

  // -- live check and preview --------------------------------------------------------------
  let asked = 0;
  function refresh() {
    const d = draft();
    const ticket = ++asked;
    const stamp = JSON.stringify(d);
    S.api("POST", "/api/templates/check", d).then((answer) => {
      if (ticket !== asked) return;
      if (answer.status === 200) showProblems(answer.body);
      else showProblems([errorProblem(answer.body)]);
    });
    if (!customer) { $("preview-state").textContent = t("editor.no_customer"); return; }
    $("preview-state").textContent = t("editor.previewing").replace("{name}", customer.name || customer.profile_id);
    const price = setup.prices[d.purpose] || 0;
    S.api("POST", "/api/templates/preview", { template: d, profile_id: customer.profile_id,
      price_per_part: price }).then((answer) => {
      if (ticket !== asked || JSON.stringify(draft()) !== stamp) return;
      if (answer.status !== 200) {
        $("preview-error").textContent = errorProblem(answer.body).text;
        $("preview-error").hidden = false;
        return;
      }
      $("preview-error").hidden = true;
      showPreview(d.channel, answer.body);
    });
  }
  const later = S.debounce(refresh, 300);

  function showPreview(ch, p) {
    ["sms", "email", "push", "zalo"].forEach((c) => { $(c + "-preview").hidden = c !== ch; });
    $("sms-counter").hidden = ch !== "sms";
    if (ch === "sms") {
      $("preview-sms-text").textContent = p.body;
      $("preview-stripped").textContent = p.sms.stripped.text;
      ["accented", "stripped"].forEach((k) => {
        const v = p.sms[k];
        $("enc-" + k).textContent = t("editor.encoding." + v.encoding);
        $("units-" + k).textContent = S.number(v.units) + " / " + S.number(v.parts > 1 ? v.per_part * v.parts : v.per_part);
        $("parts-" + k).textContent = S.number(v.parts);
        $("cost-" + k).textContent = v.cost === null ? "—" : S.money(v.cost);
        ["enc-", "units-", "parts-", "cost-"].forEach((id) => $(id + k).classList.toggle("sends", p.sends === k));
      });
      $("sms-counter").setAttribute("data-encoding", p.sms[p.sends].encoding);
      $("sms-counter").setAttribute("data-parts", p.sms[p.sends].parts);
      $("sms-counter").setAttribute("data-units", p.sms[p.sends].units);
    } else if (ch === "email") {
      $("preview-subject").textContent = p.subject || "";
      $("preview-html").srcdoc = p.html || "<pre>" + (p.body || "").replace(/[<&]/g, (c) => c === "<" ? "&lt;" : "&amp;") + "</pre>";
      $("preview-text").textContent = p.body || "";
    } else if (ch === "push") {
      $("preview-push-title").textContent = p.data.title || "";
      $("preview-push-body").textContent = p.data.body || p.body || "";
      $("preview-push-url").textContent = p.data.url || "";
    } else if (ch === "zalo") {
      $("preview-zns-id").textContent = p.data.template_id || "";
      const body = $("preview-zns").querySelector("tbody");
      body.innerHTML = "";
      Object.entries(p.data.template_data || {}).forEach(([k, v]) => {
        const row = body.insertRow();
        row.insertCell().textContent = k;
        row.insertCell().textContent = String(v);
      });
    }
    const examples = $("examples");
    examples.innerHTML = "";
    Object.values(p.examples || {}).forEach((words) => {
      const note = document.createElement("p");
      note.className = "example-note";
      note.textContent = words[lang] || words.vi;
      examples.appendChild(note);
    });
  }

  // -- the customer to preview for ---------------------------------------------------------
  const picker = S.customerPicker($("preview-customer"), $("customer-list"), (p) => {
    customer = p;
    refresh();
  }, $("customer-warning"));
  if (customer) $("preview-customer").value = picker.label(customer);

  // -- saving ------------------------------------------------------------------------------
  function save(event) {
    event.preventDefault();
    if (!setup.can_edit) return;
    const d = draft();
    const name = $("tpl-name").value.trim();
    const local = [];
    if (!/^[a-z0-9][a-z0-9_-]{0,99}$/.test(name)) local.push({ field: "name", severity: "error", text: t(name ? "form.rule.pattern" : "form.rule.missing") });
    if (!$("tpl-title").value.trim()) local.push({ field: "title", severity: "error", text: t("form.rule.missing") });
    if (local.length) { showProblems(local); return; }
    d.name = name;
    d.title = $("tpl-title").value.trim();
    d.version = version;
    $("save-status").textContent = t("editor.saving");
    S.api("PUT", "/api/templates/" + encodeURIComponent(name), d).then((answer) => {
      if (answer.status === 200) {
        const body = answer.body;
        if (!saved) { window.location.assign("/templates/" + encodeURIComponent(name) + "?saved=1"); return; }
        version = body.template.version;
        if ($("template-version")) $("template-version").textContent = version;
        $("template-heading").textContent = body.template.title;
        showProblems(body.warnings);
        $("save-status").textContent = (body.changed ? t("editor.saved") : t("editor.saved_same")).replace("{version}", version);
        return;
      }
      $("save-status").textContent = t("editor.not_saved");
      const problems = answer.body && answer.body.error && answer.body.error.problems;
      showProblems(problems && problems.length ? problems : [errorProblem(answer.body)]);
    });
  }

  // -- wiring ------------------------------------------------------------------------------
  if (saved && saved.zns) Object.entries(saved.zns.params || {}).forEach(([k, v]) => addParam(k, v));
  if (channel() === "zalo" && !paramRows().length) addParam("", "");
  $("add-param").addEventListener("click", () => { addParam("", "").querySelector(".param-name").focus(); });
  $("zns-params").addEventListener("click", (e) => {
    if (e.target.classList.contains("remove-param")) { e.target.closest("tr").remove(); later(); }
  });
  $("zns-params").addEventListener("input", (e) => {
    if (e.target.classList.contains("param-field")) checkParamField(e.target.closest("tr"));
  });
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  $("tpl-channel").addEventListener("change", () => { showParts(); if (channel() === "zalo" && !paramRows().length) addParam("", ""); });
  form.querySelectorAll(".text-part").forEach((el) => el.addEventListener("focus", () => { lastFocused = el; }));
  $("insert-field").addEventListener("change", (e) => {
    const name = e.target.value;
    e.target.value = "";
    if (!name || !lastFocused) return;
    const field = setup.fields.find((f) => f.name === name);
    const text = "{{ " + name + (field && field.can_be_empty ? " | default('') " : " ") + "}}";
    const at = lastFocused.selectionStart || lastFocused.value.length;
    lastFocused.value = lastFocused.value.slice(0, at) + text + lastFocused.value.slice(lastFocused.selectionEnd || at);
    lastFocused.focus();
    later();
  });
  form.addEventListener("submit", save);
  if (!setup.can_edit) form.querySelectorAll("input, textarea, select").forEach((el) => { if (el.id !== "insert-field") el.disabled = true; });
  showParts();
  refresh();
})();
