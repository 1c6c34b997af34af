/* The segment builder: a rule as a tree of groups and conditions, counted as it changes.
 *
 * Plain JavaScript, no framework, nothing fetched from elsewhere. The page brings what
 * the builder needs in <script id="builder-setup"> (fields, saved segments, event names,
 * the rule being edited, the words in the page's language). Every change rebuilds the
 * rule's JSON; 300 ms after the last one the builder asks POST /api/segments/preview for
 * the count, each branch's count (by path: "all[1].any[0]", matched to the node that
 * made it) and a few members. Save PUTs /api/segments/{name}, then opens its page.
 */
(function () {
  "use strict";

  const setupEl = document.getElementById("builder-setup");
  const mount = document.getElementById("builder");
  if (!setupEl || !mount) return;
  const setup = JSON.parse(setupEl.textContent);
  const lang = setup.lang;
  const t = (key) => setup.words[key] || key;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const fields = {};
  setup.fields.forEach((f) => { fields[f.name] = f; });
  const NUMERIC = new Set(["number", "integer", "money", "probability"]);
  const NO_VALUE = new Set(["is_set", "is_not_set"]);
  const DAYS = new Set(["within_days", "more_than_days_ago"]);
  const LISTS = new Set(["in", "not_in"]);
  const DEBOUNCE_MS = 300;

  const countEl = document.getElementById("segment-count");
  const hintEl = document.getElementById("builder-hint");
  const errorEl = document.getElementById("builder-error");
  const sampleBody = document.querySelector("#sample tbody");
  const sqlEl = document.getElementById("segment-sql");
  const sqlButton = document.getElementById("show-sql");

  // -- formats -------------------------------------------------------------------------

  function number(n) {
    const digits = Math.abs(Math.round(n)).toString()
      .replace(/\B(?=(\d{3})+(?!\d))/g, lang === "en" ? "," : ".");
    return (n < 0 ? "-" : "") + digits;
  }

  function money(n) {
    return lang === "en" ? "₫" + number(n) : number(n) + " ₫";
  }

  function valueLabel(field, value) {
    const labels = field && field.value_labels && field.value_labels[String(value)];
    return labels ? (labels[lang] || labels.vi || String(value)) : String(value);
  }

  // -- the model -----------------------------------------------------------------------

  let nextId = 1;

  function group(op, children, negate) {
    return { id: nextId++, kind: "group", op: op, negate: !!negate, children: children || [] };
  }

  function condition(kind, props) {
    const base = { trait: { trait: "", op: "", value: "", value2: "", values: [], period: "" },
      event: { event: "", did: true, within: "", property: "", op: "=", value: "", times: "" },
      segment: { segment: "", member: true },
      order: { order: "completed", did: true, field: "", op: "=", value: "", within: "",
        measure: "times", times: "" },
      message: { message: "received", did: true, campaign: "", channel: "", within: "" } }[kind];
    return Object.assign({ id: nextId++, kind: kind, negate: false, extra: {} }, base, props || {});
  }

  function text(v) {
    return v === null || v === undefined ? "" : String(v);
  }

  function without(rule, keys) {
    const rest = {};
    Object.keys(rule).forEach((k) => { if (!keys.includes(k)) rest[k] = rule[k]; });
    return rest;
  }

  /** An event or order condition's node: did / did not, the window, and its one filter
   * (on a property or an order field); more filters (written as JSON) are kept as they are. */
  function happened(kind, on, rule) {
    const where = rule.where || [];
    const one = where.length === 1 ? where[0] : null;
    // "At least N times" is a count compared with >=, and for orders "spent at least X"
    // a sum of the total compared with >=; other aggregates are kept as they are.
    const agg = rule.aggregate;
    const atLeast = agg && (agg.op || ">=") === ">=";
    const value = agg && agg.value === undefined ? 1 : agg && agg.value;
    const times = atLeast && (agg.fn || "count") === "count" && Number.isInteger(value);
    const spent = kind === "order" && atLeast && agg.fn === "sum" && agg.field === "total" &&
      typeof value === "number";
    const keep = [kind, "did", "within_days"].concat(one ? ["where"] : [])
      .concat(times || spent ? ["aggregate"] : []);
    return condition(kind, { [kind]: rule[kind], did: rule.did !== false,
      within: text(rule.within_days), [on]: one ? one[on] : "",
      op: one ? (one.op || "=") : "=", value: one ? text(one.value) : "",
      measure: spent ? "spent" : "times", times: times || spent ? text(value) : "",
      extra: without(rule, keep) });
  }

  /** "At least N times" (N above 1), or "spent at least X" on orders, as the aggregate. */
  function withTimes(rule, node) {
    if (node.measure === "spent") {
      const amount = Number(text(node.times).trim().replace(",", "."));
      if (text(node.times).trim() !== "" && Number.isFinite(amount) && amount > 0) {
        rule.aggregate = { fn: "sum", field: "total", op: ">=", value: amount };
      }
      return rule;
    }
    const n = wholeDays(node.times);
    if (n && n > 1) rule.aggregate = { fn: "count", op: ">=", value: n };
    return rule;
  }

  /** A node of the builder from a rule's JSON; what the builder cannot edit is kept. */
  function fromRule(rule) {
    if (rule.all || rule.any) {
      const op = rule.all ? "all" : "any";
      return group(op, rule[op].map(fromRule));
    }
    if ("not" in rule) {
      const inner = fromRule(rule.not);
      if (inner.negate) return group("all", [inner], true);
      inner.negate = true;
      return inner;
    }
    if ("trait" in rule) {
      const v = rule.value;
      const op = rule.op || "=";
      const node = condition("trait", { trait: rule.trait, op: op, period: text(rule.period),
        extra: without(rule, ["trait", "op", "value", "period"]) });
      if (Array.isArray(v)) {
        if (op === "between") { node.value = text(v[0]); node.value2 = text(v[1]); }
        node.values = v.map(text);
        if (op !== "between") node.value = v.map(text).join(", ");
      } else {
        node.value = text(v);
      }
      return node;
    }
    if ("event" in rule) return happened("event", "property", rule);
    if ("order" in rule) return happened("order", "field", rule);
    if ("segment" in rule) {
      return condition("segment", { segment: rule.segment, member: rule.member !== false,
        extra: without(rule, ["segment", "member"]) });
    }
    return condition("message", { message: rule.message, did: rule.did !== false,
      campaign: text(rule.campaign), channel: text(rule.channel), within: text(rule.within_days),
      extra: without(rule, ["message", "did", "campaign", "channel", "within_days"]) });
  }

  function opsFor(field) {
    if (!field) return [];
    if (NUMERIC.has(field.type)) {
      return [">=", ">", "<=", "<", "=", "!=", "between", "top_percent", "is_set", "is_not_set"];
    }
    if (field.type === "date") {
      return ["within_days", "more_than_days_ago", ">=", "<=", "between", "is_set", "is_not_set"];
    }
    if (field.type === "boolean") return ["=", "is_set", "is_not_set"];
    if (field.type === "list") return ["contains", "in", "not_in", "is_set", "is_not_set"];
    if (field.values) return ["=", "!=", "in", "not_in", "is_set", "is_not_set"];
    return ["=", "!=", "contains", "starts_with", "in", "not_in", "is_set", "is_not_set"];
  }

  function typed(field, raw) {
    const s = text(raw).trim();
    if (s === "") return null;
    if (NUMERIC.has(field.type)) {
      const n = Number(s.replace(",", "."));
      return Number.isFinite(n) ? n : null;
    }
    if (field.type === "boolean") return s === "true" ? true : s === "false" ? false : null;
    return s;
  }

  function wholeDays(raw) {
    const s = text(raw).trim();
    return /^\d+$/.test(s) ? parseInt(s, 10) : null;
  }

  function traitRule(node) {
    const field = fields[node.trait];
    if (!field || !node.op) return null;
    const rule = Object.assign({}, node.extra, { trait: node.trait, op: node.op });
    if (field.params && field.params.period) {
      if (!/^\d{4}(-\d{2})?$/.test(node.period.trim())) return null;
      rule.period = node.period.trim();
    }
    if (NO_VALUE.has(node.op)) return rule;
    let value;
    if (DAYS.has(node.op)) {
      value = wholeDays(node.value);
    } else if (node.op === "between") {
      const low = typed(field, node.value);
      const high = typed(field, node.value2);
      value = low === null || high === null ? null : [low, high];
    } else if (LISTS.has(node.op)) {
      const parts = field.values ? node.values : text(node.value).split(",");
      const list = parts.map((p) => typed(field, p)).filter((p) => p !== null);
      value = list.length ? list : null;
    } else {
      value = typed(field, node.value);
    }
    if (value === null) return null;
    rule.value = value;
    return rule;
  }

  function withWindow(rule, node) {
    if (!node.did) rule.did = false;
    const days = wholeDays(node.within);
    if (days) rule.within_days = days;
    return rule;
  }

  const orderFields = {};
  setup.orders.fields.forEach((f) => { orderFields[f.name] = f; });

  function orderOps(field) {
    if (!field) return ["="];
    return field.type === "number" ? [">=", ">", "<=", "<", "=", "!="]
      : ["=", "!=", "contains", "starts_with", "is_set", "is_not_set"];
  }

  function orderRule(node) {
    const rule = Object.assign({}, node.extra, { order: node.order });
    const field = orderFields[node.field];
    if (field) {
      const filter = { field: node.field, op: node.op };
      if (!NO_VALUE.has(node.op)) {
        const value = typed(field, node.value);
        if (value === null) return null;
        filter.value = value;
      }
      rule.where = [filter];
    }
    return withWindow(withTimes(rule, node), node);
  }

  const PROPERTY = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
  const PROPERTY_OPS = ["=", "!=", "contains", "starts_with", ">=", ">", "<=", "<", "is_set",
    "is_not_set"];
  const NUMBER_OPS = new Set([">=", ">", "<=", "<"]);

  /** A property's value as typed: a number where the operator compares numbers, or where
   * "=" / "≠" is given digits (properties such as price are numbers in the event). */
  function propertyValue(op, raw) {
    const s = text(raw).trim();
    if (s === "") return null;
    const looksNumeric = /^-?\d+([.,]\d+)?$/.test(s);
    if (NUMBER_OPS.has(op) || ((op === "=" || op === "!=") && looksNumeric)) {
      const n = Number(s.replace(",", "."));
      return Number.isFinite(n) ? n : null;
    }
    return s;
  }

  function eventRule(node) {
    if (!node.event.trim()) return null;
    const rule = Object.assign({}, node.extra, { event: node.event.trim() });
    const property = node.property.trim();
    if (property) {
      if (!PROPERTY.test(property)) return null;
      const filter = { property: property, op: node.op };
      if (!NO_VALUE.has(node.op)) {
        const value = propertyValue(node.op, node.value);
        if (value === null) return null;
        filter.value = value;
      }
      rule.where = [filter];
    }
    return withWindow(withTimes(rule, node), node);
  }

  function conditionRule(node) {
    if (node.kind === "trait") return traitRule(node);
    if (node.kind === "order") return orderRule(node);
    if (node.kind === "event") return eventRule(node);
    if (node.kind === "segment") {
      if (!node.segment) return null;
      const rule = Object.assign({}, node.extra, { segment: node.segment });
      if (!node.member) rule.member = false;
      return rule;
    }
    const rule = Object.assign({}, node.extra, { message: node.message });
    if (node.campaign.trim()) rule.campaign = node.campaign.trim();
    if (node.channel) rule.channel = node.channel;
    return withWindow(rule, node);
  }

  /** The node's rule (null when empty or incomplete); remembers the un-negated part. */
  function build(node) {
    let rule;
    if (node.kind === "group") {
      const parts = node.children.map(build).filter((r) => r !== null);
      rule = parts.length ? { [node.op]: parts } : null;
    } else {
      rule = conditionRule(node);
    }
    node.own = rule;
    return rule && node.negate ? { not: rule } : rule;
  }

  /** Each counted node's path as the preview names it; parents before children. */
  function assign(node, path) {
    node.path = node.own ? path : null;
    const inner = node.negate ? (path === "(rule)" ? "not" : path + ".not") : path;
    if (node.kind !== "group") return;
    let i = 0;
    node.children.forEach((child) => {
      if (node.own && child.own) {
        assign(child, (inner === "(rule)" ? "" : inner + ".") + node.op + "[" + i + "]");
        i += 1;
      } else {
        assign(child, null);
      }
    });
  }

  function parentOf(node, within) {
    if (within.kind !== "group") return null;
    for (const child of within.children) {
      if (child === node) return within;
      const found = parentOf(node, child);
      if (found) return found;
    }
    return null;
  }

  function walk(node, fn) {
    fn(node);
    if (node.kind === "group") node.children.forEach((c) => walk(c, fn));
  }

  // -- drawing -------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === null || v === undefined || v === false) return;
      if (k === "text") e.textContent = v;
      else if (k === "className") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach((c) => { if (c) e.append(c); });
    return e;
  }

  function select(className, options, current, onchange, attrs) {
    const s = el("select", Object.assign({ className: className, onchange: onchange }, attrs));
    options.forEach(([value, label]) => {
      const o = el("option", { value: value, text: label });
      if (Array.isArray(current) ? current.includes(value) : value === current) o.selected = true;
      s.append(o);
    });
    return s;
  }

  function input(className, value, oninput, attrs) {
    return el("input", Object.assign({ className: className, value: value, oninput: oninput },
      attrs));
  }

  function redraw(node) {
    const old = mount.querySelector('[data-node-id="' + node.id + '"]');
    if (old) old.replaceWith(draw(node));
    changed();
  }

  function head(node, parts) {
    const isRoot = node === root;
    const negate = el("button", { type: "button", className: "negate",
      "aria-pressed": node.negate ? "true" : "false", text: t("builder.negate"),
      onclick: () => { node.negate = !node.negate; redraw(node); } });
    const remove = isRoot ? null : el("button", { type: "button", className: "remove danger",
      text: t("builder.remove"), "aria-label": t("builder.remove"),
      onclick: () => {
        const parent = parentOf(node, root);
        parent.children.splice(parent.children.indexOf(node), 1);
        redraw(parent);
      } });
    return el("div", { className: "node-head" }, [
      el("span", { className: "not-badge", text: t("builder.negated") }), ...parts,
      el("span", { className: "spacer" }), el("span", { className: "branch-count" }),
      negate, remove]);
  }

  function drawGroup(node) {
    const op = select("group-op", [["all", t("builder.all")], ["any", t("builder.any")]],
      node.op, (e) => { node.op = e.target.value; redraw(node); },
      { "aria-label": t("builder.all") + " / " + t("builder.any") });
    const children = el("div", { className: "node-children" }, node.children.map(draw));
    const tools = el("div", { className: "node-tools" }, [
      el("button", { type: "button", className: "add-condition", text: t("builder.add_condition"),
        onclick: () => { node.children.push(condition("trait")); redraw(node); } }),
      el("button", { type: "button", className: "add-group", text: t("builder.add_group"),
        onclick: () => { node.children.push(group("any", [condition("trait")])); redraw(node); } }),
    ]);
    return [head(node, [op]), children, tools];
  }

  function fieldOptions() {
    return [["", t("builder.choose_field")]].concat(
      setup.fields.map((f) => [f.name, (f.label[lang] || f.label.vi || f.name)]));
  }

  function valueInput(node, field, key, kind) {
    const update = (e) => { node[key] = e.target.value; changed(); };
    if (kind === "days") {
      return input("value", node[key], update, { type: "number", min: "0", step: "1",
        "aria-label": t("builder.days") });
    }
    if (field.type === "boolean") {
      return select("value", [["", ""], ["true", t("builder.yes")], ["false", t("builder.no")]],
        node[key], update);
    }
    if (field.values && field.type !== "date" && !NUMERIC.has(field.type)) {
      const options = [["", ""]].concat(field.values.map((v) => [String(v), valueLabel(field, v)]));
      return select("value", options, node[key], update);
    }
    if (NUMERIC.has(field.type)) {
      return input("value", node[key], update, { type: "number", step: "any",
        placeholder: field.min !== undefined ? text(field.min) + "–" + text(field.max) : null });
    }
    if (field.type === "date") return input("value", node[key], update, { type: "date" });
    const attrs = {};
    if (field.top && field.top.length) {
      attrs.list = "top-" + node.id;
    }
    return input("value", node[key], update, attrs);
  }

  function traitParts(node) {
    const field = fields[node.trait];
    const parts = [select("field", fieldOptions(), node.trait, (e) => {
      node.trait = e.target.value;
      const ops = opsFor(fields[node.trait]);
      if (!ops.includes(node.op)) node.op = ops[0] || "";
      node.value = ""; node.value2 = ""; node.values = [];
      redraw(node);
    }, { "aria-label": t("builder.choose_field") })];
    if (!field) return parts;
    if (field.params && field.params.period) {
      parts.push(input("period", node.period, (e) => { node.period = e.target.value; changed(); },
        { placeholder: "2026", "aria-label": t("builder.period"), list: "periods-" + node.id }));
      parts.push(el("datalist", { id: "periods-" + node.id },
        (field.params.period.values || []).map((p) => el("option", { value: p }))));
    }
    const ops = opsFor(field);
    parts.push(select("op", ops.map((o) => [o, t("op." + o)]), node.op, (e) => {
      node.op = e.target.value;
      redraw(node);
    }));
    if (NO_VALUE.has(node.op)) return parts;
    if (DAYS.has(node.op)) {
      parts.push(valueInput(node, field, "value", "days"), el("span", { text: t("builder.days") }));
    } else if (node.op === "between") {
      parts.push(valueInput(node, field, "value"), el("span", { text: "–" }),
        valueInput(node, field, "value2"));
    } else if (LISTS.has(node.op) && field.values) {
      const options = field.values.map((v) => [String(v), valueLabel(field, v)]);
      parts.push(select("values", options, node.values, (e) => {
        node.values = Array.from(e.target.selectedOptions).map((o) => o.value);
        changed();
      }, { multiple: true }));
    } else if (field.type === "list" && field.values) {
      const options = [["", ""]].concat(field.values.map((v) => [String(v), valueLabel(field, v)]));
      parts.push(select("value", options, node.value, (e) => { node.value = e.target.value; changed(); }));
    } else {
      parts.push(valueInput(node, field, "value"));
    }
    if (field.top && field.top.length) {
      parts.push(el("datalist", { id: "top-" + node.id },
        field.top.map((v) => el("option", { value: text(v.value) }))));
    }
    return parts;
  }

  function didSelect(node) {
    return select("did", [["true", t("builder.did")], ["false", t("builder.did_not")]],
      node.did ? "true" : "false", (e) => { node.did = e.target.value === "true"; changed(); });
  }

  function timesInput(node) {
    const spent = node.measure === "spent";
    const label = spent ? t("builder.spent") : t("builder.times");
    return input("times", node.times, (e) => { node.times = e.target.value; changed(); },
      { type: "number", min: spent ? "0" : "1", step: spent ? "any" : "1", placeholder: label,
        "aria-label": label });
  }

  /** For orders: count them ("at least N orders") or add up their totals ("spent at least"). */
  function measureSelect(node) {
    return select("measure", [["times", t("builder.measure.times")],
      ["spent", t("builder.measure.spent")]], node.measure || "times", (e) => {
      node.measure = e.target.value;
      node.times = "";
      redraw(node);
    }, { "aria-label": t("builder.measure") });
  }

  function withinInput(node) {
    return input("within", node.within, (e) => { node.within = e.target.value; changed(); },
      { type: "number", min: "1", step: "1", placeholder: t("builder.within_days"),
        "aria-label": t("builder.within_days") });
  }

  function orderParts(node) {
    const field = orderFields[node.field];
    const parts = [
      select("order-status", setup.orders.statuses.map((s) => [s, t("builder.order." + s)]),
        node.order, (e) => { node.order = e.target.value; changed(); },
        { "aria-label": t("builder.order.status") }),
      select("order-field", [["", t("builder.order.any_item")]].concat(
        setup.orders.fields.map((f) => [f.name, t("builder.order.field." + f.name)])),
      node.field, (e) => {
        node.field = e.target.value;
        const ops = orderOps(orderFields[node.field]);
        if (!ops.includes(node.op)) node.op = ops[0];
        node.value = "";
        redraw(node);
      }, { "aria-label": t("builder.order.field") }),
    ];
    if (!field) return parts;
    parts.push(select("op", orderOps(field).map((o) => [o, t("op." + o)]), node.op, (e) => {
      node.op = e.target.value;
      redraw(node);
    }));
    if (NO_VALUE.has(node.op)) return parts;
    const attrs = field.type === "number" ? { type: "number", step: "any" } : {};
    if (field.top && field.top.length) attrs.list = "order-top-" + node.id;
    parts.push(input("value", node.value, (e) => { node.value = e.target.value; changed(); },
      attrs));
    if (field.top && field.top.length) {
      parts.push(el("datalist", { id: "order-top-" + node.id },
        field.top.map((v) => el("option", { value: text(v) }))));
    }
    return parts;
  }

  function conditionParts(node) {
    const kinds = ["trait", "event", "order", "segment", "message"]
      .map((k) => [k, t("builder.kind." + k)]);
    const kind = select("kind", kinds, node.kind, (e) => {
      const fresh = condition(e.target.value);
      Object.keys(node).forEach((k) => { if (k !== "id" && k !== "negate") delete node[k]; });
      Object.assign(node, fresh, { id: node.id, negate: node.negate });
      redraw(node);
    }, { "aria-label": t("builder.kind") });
    if (node.kind === "trait") return [kind, ...traitParts(node)];
    if (node.kind === "event") {
      const parts = [kind, didSelect(node),
        input("event-name", node.event, (e) => { node.event = e.target.value; changed(); },
          { list: "event-names", placeholder: t("builder.event_name"),
            "aria-label": t("builder.event_name") }),
        input("event-property", node.property, (e) => {
          const had = node.property.trim() !== "";
          node.property = e.target.value;
          if (had === (node.property.trim() !== "")) { changed(); return; }
          redraw(node); // the operator and value appear (or go): keep typing where it was
          const again = mount.querySelector('[data-node-id="' + node.id + '"] input.event-property');
          if (again) { again.focus(); again.setSelectionRange(again.value.length, again.value.length); }
        }, { placeholder: t("builder.event_property"), "aria-label": t("builder.event_property") })];
      if (node.property.trim()) {
        parts.push(select("op", PROPERTY_OPS.map((o) => [o, t("op." + o)]), node.op, (e) => {
          node.op = e.target.value;
          redraw(node);
        }));
        if (!NO_VALUE.has(node.op)) {
          parts.push(input("value", node.value, (e) => { node.value = e.target.value; changed(); },
            { "aria-label": t("builder.value") }));
        }
      }
      parts.push(timesInput(node), withinInput(node));
      return parts;
    }
    if (node.kind === "order") {
      return [kind, didSelect(node), ...orderParts(node), measureSelect(node), timesInput(node),
        withinInput(node)];
    }
    if (node.kind === "segment") {
      const options = [["", ""]].concat(setup.segments.map((s) => [s.name, s.title + " (" + s.name + ")"]));
      return [kind,
        select("member", [["true", t("builder.member")], ["false", t("builder.not_member")]],
          node.member ? "true" : "false", (e) => { node.member = e.target.value === "true"; changed(); }),
        select("segment", options, node.segment, (e) => { node.segment = e.target.value; changed(); })];
    }
    return [kind, didSelect(node),
      select("message-kind", setup.messages.map((m) => [m, t("message." + m)]), node.message,
        (e) => { node.message = e.target.value; changed(); }),
      input("campaign", node.campaign, (e) => { node.campaign = e.target.value; changed(); },
        { placeholder: t("builder.campaign"), "aria-label": t("builder.campaign") }),
      select("channel", [["", t("builder.any_channel")]].concat(
        setup.channels.map((c) => [c, t("channel." + c)])), node.channel,
      (e) => { node.channel = e.target.value; changed(); }, { "aria-label": t("builder.channel") }),
      withinInput(node)];
  }

  function draw(node) {
    const classes = ["node", node.kind === "group" ? "group " + node.op : "cond " + node.kind];
    if (node.negate) classes.push("negated");
    const box = el("div", { className: classes.join(" "), "data-node-id": node.id });
    if (node.kind === "group") {
      drawGroup(node).forEach((part) => box.append(part));
    } else {
      box.append(head(node, conditionParts(node)),
        el("p", { className: "node-hint muted small", text: t("builder.incomplete") }));
    }
    return box;
  }

  // -- counting ------------------------------------------------------------------------

  let root;
  let timer = null;
  let asked = 0; // bumped by every edit: an answer about an older rule is not shown
  let current = null;
  let queue = Promise.resolve();
  const countCard = countEl.parentElement;

  /** The builder's requests one after another, never two at once from one page. */
  function queued(fn) {
    const next = queue.then(fn, fn);
    queue = next.catch(() => null);
    return next;
  }

  async function api(method, url, body) {
    const response = await fetch(url, { method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
        "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const raw = await response.text();
    let data = null;
    try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
    if (!response.ok) {
      const message = data && data.error && data.error.message;
      throw new Error(message || response.status + " " + response.statusText);
    }
    return data;
  }

  /** After any edit: the rule, paths and incomplete marks now; the count 300 ms later. */
  function changed() {
    current = build(root);
    assign(root, "(rule)");
    walk(root, (node) => {
      const box = mount.querySelector('[data-node-id="' + node.id + '"]');
      if (!box) return;
      box.dataset.path = node.path || "";
      box.classList.toggle("incomplete", node.kind !== "group" && !node.own);
    });
    asked += 1;
    countCard.classList.add("busy");
    clearTimeout(timer);
    const mine = asked;
    timer = setTimeout(() => queued(() => preview(mine)), DEBOUNCE_MS);
  }

  function showError(message) {
    errorEl.textContent = message || "";
    errorEl.hidden = !message;
  }

  function showCounts(branches) {
    const byPath = {};
    (branches || []).forEach((b) => { byPath[b.path] = b.count; });
    walk(root, (node) => {
      const box = mount.querySelector('[data-node-id="' + node.id + '"]');
      if (!box) return;
      const badge = box.querySelector(":scope > .node-head > .branch-count");
      const n = node.path !== null && node.path in byPath ? byPath[node.path] : null;
      badge.textContent = n === null ? "" : number(n);
      badge.dataset.count = n === null ? "" : String(n);
    });
  }

  function showSample(rows) {
    sampleBody.replaceChildren(...(rows || []).map((r) => el("tr", { "data-profile": r.profile_id }, [
      el("td", {}, [el("a", { href: "/profiles/" + encodeURIComponent(r.profile_id),
        text: r.name || r.profile_id })]),
      el("td", { text: text(r.phone) }), el("td", { text: text(r.email) }),
      el("td", { text: r.lifecycle_stage ? valueLabel(fields.lifecycle_stage, r.lifecycle_stage) : "" }),
      el("td", { text: r.rfm_group ? valueLabel(fields.rfm_group, r.rfm_group) : "" }),
      el("td", { className: "num", text: r.clv_12m === null || r.clv_12m === undefined ? "" : money(r.clv_12m) }),
    ])));
  }

  function showCount(n) {
    countEl.textContent = n === null ? "–" : number(n);
    countEl.dataset.count = n === null ? "" : String(n);
  }

  /** Count the rule as it was at edit ``mine``, unless it has changed again since. */
  async function preview(mine) {
    const rule = current;
    if (mine !== asked) return;
    showError("");
    if (!rule) {
      showCount(null); showCounts([]); showSample([]);
      hintEl.hidden = false;
      sqlEl.textContent = "";
      countCard.classList.remove("busy");
      return;
    }
    hintEl.hidden = true;
    try {
      const answer = await api("POST", "/api/segments/preview", { rule: rule, sample: 10 });
      if (mine !== asked) return;
      showCount(answer.count);
      showCounts(answer.branches);
      showSample(answer.sample);
      if (!sqlEl.hidden) await showSql(rule, mine);
    } catch (err) {
      if (mine !== asked) return;
      showCount(null); showCounts([]);
      showError(err.message);
    } finally {
      if (mine === asked) countCard.classList.remove("busy");
    }
  }

  async function showSql(rule, mine) {
    if (!rule) { sqlEl.textContent = ""; return; }
    const answer = await api("POST", "/api/segments/sql", { rule: rule });
    if (mine === asked) sqlEl.textContent = answer.sql;
  }

  sqlButton.addEventListener("click", () => {
    const open = sqlEl.hidden;
    sqlEl.hidden = !open;
    sqlButton.setAttribute("aria-expanded", open ? "true" : "false");
    const mine = asked;
    if (open) queued(() => showSql(current, mine)).catch((err) => showError(err.message));
  });

  // -- saving --------------------------------------------------------------------------

  const form = document.getElementById("save-form");
  if (form) {
    const saveError = document.getElementById("save-error");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const name = document.getElementById("segment-name").value.trim();
      const title = document.getElementById("segment-title").value.trim();
      const fail = (message) => { saveError.textContent = message; saveError.hidden = false; };
      saveError.hidden = true;
      if (!/^[a-z0-9][a-z0-9_-]{0,99}$/.test(name) || !title) return fail(t("builder.name_needed"));
      if (!current) return fail(t("builder.empty"));
      const button = document.getElementById("save-segment");
      button.disabled = true;
      try {
        const body = { title: title, rule: current,
          description: document.getElementById("segment-description").value.trim(),
          refresh_minutes: parseInt(document.getElementById("segment-refresh").value, 10) || 60 };
        await queued(() => api("PUT", "/api/segments/" + encodeURIComponent(name), body));
        window.location.assign("/segments/" + encodeURIComponent(name));
      } catch (err) {
        button.disabled = false;
        fail(err.message);
      }
    });
  }

  // -- start ---------------------------------------------------------------------------

  if (setup.rule) {
    root = fromRule(setup.rule);
    if (root.kind !== "group") root = group("all", [root]);
  } else {
    root = group("all", [condition("trait")]);
  }
  mount.append(el("datalist", { id: "event-names" },
    setup.events.map((name) => el("option", { value: name }))), draw(root));
  changed();
})();
