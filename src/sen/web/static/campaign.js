/* A campaign's page: templates filtered by channel, the estimate, a test send to chosen
 * customers, the launch (after a confirmation stating the audience and the cost) and the
 * live numbers, asked of GET /api/campaigns/{name} every few seconds while it launches
 * or runs. Plain JavaScript; the definition form itself is a plain HTML form. */
(function () {
  "use strict";

  const S = window.SenMessaging;
  const setupEl = document.getElementById("campaign-setup");
  if (!S || !setupEl) return;
  const setup = JSON.parse(setupEl.textContent);
  const t = (key) => setup.words[key] || key;
  const $ = (id) => document.getElementById(id);
  const base = setup.name ? "/api/campaigns/" + encodeURIComponent(setup.name) : null;
  const POLL_MS = 2000;

  // -- templates filtered by the step's channel --------------------------------------------
  document.querySelectorAll("tr[data-step]").forEach((row) => {
    const channel = row.querySelector(".step-channel");
    const template = row.querySelector(".step-template");
    const warning = row.querySelector(".no-template");
    function filter() {
      let shown = 0;
      Array.from(template.options).forEach((o) => {
        const fits = !o.value || !o.dataset.channel || o.dataset.channel === channel.value;
        o.hidden = !fits;
        o.disabled = !fits;
        if (fits && o.value) shown += 1;
      });
      if (template.selectedOptions[0] && template.selectedOptions[0].disabled) template.value = "";
      template.disabled = !channel.value;
      warning.hidden = !channel.value || shown > 0;
    }
    channel.addEventListener("change", filter);
    filter();
  });

  function reasons(map) {
    const parts = Object.entries(map || {}).filter(([, n]) => n > 0)
      .map(([r, n]) => (setup.words["reason." + r] || r) + ": " + S.number(n));
    return parts.length ? parts.join(" · ") : "0";
  }

  // -- estimate ----------------------------------------------------------------------------
  let estimate = null;
  function runEstimate() {
    $("estimate-state").textContent = t("campaigns.estimating");
    return S.api("POST", base + "/estimate").then((answer) => {
      if (answer.status !== 200) {
        $("estimate-state").textContent = t("campaigns.estimate_failed") + " " +
          ((answer.body && answer.body.error && answer.body.error.message) || "");
        return null;
      }
      const e = answer.body;
      estimate = e;
      $("estimate-state").textContent = "";
      $("estimate-result").hidden = false;
      $("est-audience").textContent = S.number(e.audience);
      $("est-holdout").textContent = S.number(e.holdout);
      $("est-excluded").textContent = S.number(e.excluded);
      $("est-queued").textContent = S.number(e.queued);
      $("est-channels").textContent = Object.entries(e.by_channel).map(([c, n]) => t("channel." + c) + ": " + S.number(n)).join(" · ") || "0";
      $("est-deferred").textContent = S.number(e.deferred);
      $("est-suppressed").textContent = reasons(e.suppressed);
      $("est-cost").textContent = S.money(e.cost);
      $("est-cost").setAttribute("data-cost", e.cost);
      $("est-sampled").hidden = e.sampled >= e.audience - e.holdout;
      $("est-sampled").textContent = t("campaigns.sampled").replace("{n}", S.number(e.sampled));
      return e;
    });
  }
  if ($("estimate")) $("estimate").addEventListener("click", runEstimate);

  // -- launch ------------------------------------------------------------------------------
  if ($("launch")) {
    $("launch").addEventListener("click", () => {
      (estimate ? Promise.resolve(estimate) : runEstimate()).then((e) => {
        if (!e) return;
        $("launch-question").textContent = t("campaigns.launch_confirm")
          .replace("{audience}", S.number(e.queued)).replace("{cost}", S.money(e.cost));
        $("launch-dialog").showModal();
      });
    });
    $("launch-dialog").addEventListener("close", () => {
      if ($("launch-dialog").returnValue !== "yes") return;
      S.api("POST", base + "/launch").then((answer) => {
        if (answer.status === 202) { window.location.reload(); return; }
        $("launch-error").textContent = (answer.body && answer.body.error && answer.body.error.message) || String(answer.status);
        $("launch-error").hidden = false;
      });
    });
  }

  // -- test send ---------------------------------------------------------------------------
  if ($("test-customer")) {
    const chosen = new Map();
    const drawChosen = () => {
      const list = $("test-chosen");
      list.innerHTML = "";
      chosen.forEach((label, id) => {
        const item = document.createElement("li");
        item.setAttribute("data-profile", id);
        item.textContent = label + " ";
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "small";
        remove.textContent = t("editor.remove");
        remove.addEventListener("click", () => { chosen.delete(id); drawChosen(); });
        item.appendChild(remove);
        list.appendChild(item);
      });
      $("send-test").disabled = chosen.size === 0;
    };
    const picker = S.customerPicker($("test-customer"), $("test-customers"), (p) => {
      chosen.set(p.profile_id, picker.label(p));
      $("test-customer").value = "";
      drawChosen();
    }, $("test-warning"));
    $("send-test").addEventListener("click", () => {
      S.api("POST", base + "/test", { profile_ids: Array.from(chosen.keys()) }).then((answer) => {
        if (answer.status !== 200) {
          $("test-result").textContent = (answer.body && answer.body.error && answer.body.error.message) || String(answer.status);
          return;
        }
        const r = answer.body;
        $("test-result").textContent = t("campaigns.test_done").replace("{queued}", S.number(r.queued))
          .replace("{suppressed}", reasons(r.suppressed));
      });
    });
  }

  // -- live numbers ------------------------------------------------------------------------
  const live = $("live");
  function show(c) {
    const s = c.stats;
    const st = (k) => s.by_status[k] || 0;
    const values = { treatment: s.treatment, holdout: s.holdout,
      queued: st("queued") + st("held") + st("sending"),
      sent: st("sent") + st("delivered") + st("failed") + st("bounced"),
      delivered: st("delivered"), failed: st("failed") + st("bounced"),
      suppressed: st("suppressed"), clicked: s.clicked, redeemed: s.redeemed };
    Object.entries(values).forEach(([k, v]) => {
      const el = live.querySelector('[data-stat="' + k + '"]');
      if (el) el.textContent = S.number(v);
    });
    live.querySelector('[data-stat="cost"]').textContent = S.money(s.cost);
    const top = Math.max(values.treatment, 1);
    live.querySelectorAll("[data-funnel]").forEach((row) => {
      const v = values[row.getAttribute("data-funnel")] || 0;
      row.querySelector(".fill").style.width = Math.min(100, 100 * v / top).toFixed(1) + "%";
      row.querySelector(".num").textContent = S.number(v);
    });
    const body = $("suppressed").querySelector("tbody");
    body.innerHTML = "";
    const entries = Object.entries(s.suppressed);
    if (!entries.length) body.insertRow().insertCell().textContent = "—";
    entries.forEach(([r, n]) => {
      const row = body.insertRow();
      row.setAttribute("data-reason", r);
      row.insertCell().textContent = t("reason." + r);
      const cell = row.insertCell();
      cell.className = "num";
      cell.textContent = S.number(n);
    });
    const p = c.launch_progress;
    $("launch-progress").hidden = !p || p.state !== "running";
    if (p && p.state === "running") {
      $("progress-text").textContent = S.number(p.queued + p.suppressed);
      $("progress-fill").style.width = Math.min(100, 100 * (p.queued + p.suppressed) / Math.max(s.treatment, 1)).toFixed(1) + "%";
    }
    $("launch-failed").hidden = !p || p.state !== "failed";
    if (p && p.state === "failed") $("launch-failed").textContent = p.error || "";
    const pill = $("campaign-status");
    if (pill.getAttribute("data-status") !== c.status) {
      pill.setAttribute("data-status", c.status);
      pill.className = "pill status-" + c.status;
      pill.textContent = t("campaign.status." + c.status);
    }
    live.setAttribute("data-status", c.status);
    live.setAttribute("data-refreshed", String(Date.now()));
  }

  function poll() {
    S.api("GET", base).then((answer) => {
      if (answer.status === 200 && answer.body.stats) show(answer.body);
      const status = answer.status === 200 ? answer.body.status : live.getAttribute("data-status");
      if (setup.live.includes(status) || answer.status !== 200) setTimeout(poll, POLL_MS);
    });
  }
  if (live && base) poll();
})();
