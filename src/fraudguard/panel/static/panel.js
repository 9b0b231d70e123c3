// FraudGuard panel: each page calls the JSON API; text is always set with textContent.
// The helpers here are shared with the page scripts loaded after this one.
"use strict";

const ROLES = ["viewer", "analyst", "lead", "admin"];
const body = document.body;
const role = body.dataset.role || "";
const me = body.dataset.user || "";
const allows = (needed) => ROLES.indexOf(role) >= ROLES.indexOf(needed);
const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function utc(ms) {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC+00:00";
}
const pct = (x) => (x === null || x === undefined ? "—" : (100 * x).toFixed(1) + "%");
const num = (x, digits = 0) => (x === null || x === undefined ? "—" :
  Number(x).toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const eur = (x) => "€" + num(x, 2);

async function api(method, path, payload) {
  const headers = { Accept: "application/json" };
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf();
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  if (response.status === 401 && body.dataset.page !== "login") { location.href = "/login"; }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && data.message) || response.statusText);
  return data;
}

function say(text, bad = false) {
  const box = document.getElementById("message");
  box.textContent = text;
  box.className = bad ? "message bad" : "message";
  box.hidden = !text;
}

function fill(table, rows) {
  const tbody = table.tBodies[0] || table.appendChild(el("tbody"));
  tbody.replaceChildren(...rows);
}

function gate() {
  for (const node of document.querySelectorAll("[data-needs]")) {
    if (!allows(node.dataset.needs)) node.hidden = true;
  }
}

const logout = document.getElementById("logout");
if (logout) logout.addEventListener("click", async () => {
  await api("DELETE", "/api/session").catch(() => {});
  location.href = "/login";
});

// --- login ---------------------------------------------------------------------------------
function loginPage() {
  document.getElementById("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/api/session", {
        name: document.getElementById("login-name").value,
        password: document.getElementById("login-password").value,
      });
      location.href = "/thresholds";
    } catch (error) { say(error.message, true); }
  });
}

// --- thresholds ----------------------------------------------------------------------------
function segmentText(tier) {
  const parts = [];
  if (tier.mcc) parts.push("mcc " + tier.mcc.join(", "));
  if (tier.channel) parts.push("channel " + tier.channel);
  if (tier.amount_eur) {
    const band = tier.amount_eur;
    if (band.min !== undefined && band.min > 0) parts.push("amount_eur ≥ " + band.min);
    if (band.max !== undefined) parts.push("amount_eur < " + band.max);
  }
  return parts.join(", ") || "everything else";
}

function tierRows(tiers) {
  return [...(tiers.overrides || []), { name: "default", review: tiers.review, block: tiers.block }];
}

function toYaml(tiers) {
  const q = JSON.stringify;
  const lines = ["version: " + q(tiers.version)];
  if (tiers.description) lines.push("description: " + q(tiers.description));
  lines.push("review: " + tiers.review, "block: " + tiers.block);
  if ((tiers.overrides || []).length) {
    lines.push("overrides:");
    for (const o of tiers.overrides) {
      lines.push("  - name: " + q(o.name));
      if (o.mcc) lines.push("    mcc: " + q(o.mcc));
      if (o.channel) lines.push("    channel: " + q(o.channel));
      if (o.amount_eur) lines.push("    amount_eur: " + q(o.amount_eur));
      lines.push("    review: " + o.review, "    block: " + o.block);
    }
  }
  return lines.join("\n") + "\n";
}

function thresholdsPage() {
  const yamlBox = document.getElementById("draft-yaml");
  const versionBox = document.getElementById("draft-version");
  const errorBox = document.getElementById("draft-error");
  let tiers = null;
  let draftId = null;
  let current = null;

  function renderFields() {
    versionBox.value = tiers.version;
    const rows = tierRows(tiers).map((tier, index) => {
      const isDefault = tier.name === "default" && index === tierRows(tiers).length - 1;
      const input = (key) => el("input", {
        type: "number", step: "0.01", min: "0", max: "1", value: tier[key],
        "data-tier": tier.name, "data-key": key,
        on: { input: (event) => {
          const value = Number(event.target.value);
          if (isDefault) tiers[key] = value;
          else tiers.overrides[index][key] = value;
          yamlBox.value = toYaml(tiers);
        } },
      });
      return el("tr", {}, el("td", {}, tier.name), el("td", {}, isDefault ? "everything else" : segmentText(tier)),
        el("td", {}, input("review")), el("td", {}, input("block")));
    });
    fill(document.getElementById("draft-fields"), rows);
  }

  let timer = null;
  async function validate() {
    try {
      const result = await api("POST", "/api/thresholds/validate", { yaml: yamlBox.value });
      tiers = result.tiers;
      errorBox.hidden = true;
      renderFields();
      return true;
    } catch (error) {
      errorBox.textContent = error.message;
      errorBox.hidden = false;
      return false;
    }
  }
  yamlBox.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(validate, 300); });
  versionBox.addEventListener("input", () => { tiers.version = versionBox.value; yamlBox.value = toYaml(tiers); });

  async function loadInForce() {
    const data = await api("GET", "/api/thresholds");
    current = data;
    document.getElementById("in-force-version").textContent = data.version;
    fill(document.getElementById("in-force-tiers"), tierRows(data.tiers).map((tier, i, all) =>
      el("tr", {}, el("td", {}, tier.name), el("td", {}, i === all.length - 1 ? "everything else" : segmentText(tier)),
        el("td", {}, tier.review), el("td", {}, tier.block))));
    const history = [...data.history].reverse().map((h) => el("tr", {},
      el("td", {}, h.version), el("td", {}, utc(h.issued_at_ms)), el("td", {}, h.offset),
      el("td", { "data-first-decision": h.version }, utc(h.first_decision_at_ms)),
      el("td", {}, h.version !== data.version && allows("lead")
        ? el("button", { type: "button", class: "secondary", "data-rollback": h.version,
            on: { click: () => rollback(h.version) } }, "Propose rollback to this")
        : "")));
    if (!history.length) {
      history.push(el("tr", {}, el("td", { colspan: 5, class: "hint" },
        `Nothing published yet: the job decides with ${data.version}.`)));
    }
    fill(document.getElementById("history"), history);
    if (tiers === null) { yamlBox.value = data.yaml; await validate(); }
  }

  async function rollback(version) {
    const reason = document.getElementById("propose-reason").value.trim();
    if (!reason) { say("Write the reason for the rollback in the reason field first.", true); return; }
    try {
      const draft = await api("POST", "/api/thresholds/rollback", { version, reason });
      say(`Rollback to ${version} proposed as #${draft.id}: another lead or an admin approves it.`);
      await loadDrafts();
    } catch (error) { say(error.message, true); }
  }

  async function loadDrafts() {
    const drafts = await api("GET", "/api/thresholds/drafts");
    fill(document.getElementById("drafts"), drafts.map((d) => {
      const actions = el("td");
      if (d.status === "proposed" && allows("lead")) {
        const mine = d.proposed_by === me;
        actions.append(
          el("button", { type: "button", "data-approve": d.id, disabled: mine ? "disabled" : null,
            title: mine ? "four eyes: someone else approves" : "publish to the running job",
            on: { click: () => decide(d.id, "approve") } }, "Approve and publish"), " ",
          el("button", { type: "button", class: "secondary", "data-reject": d.id,
            on: { click: () => decide(d.id, "reject") } }, "Reject"));
      }
      if (d.status === "draft") {
        actions.append(el("button", { type: "button", class: "secondary", "data-open": d.id,
          on: { click: async () => { draftId = d.id; yamlBox.value = d.yaml; await validate(); say(`Draft #${d.id} opened.`); } } }, "Open"));
      }
      // The tiers themselves, one click away: an approver sees what they publish.
      const version = el("td", {}, el("details", {}, el("summary", {}, d.version), el("pre", { "data-yaml": d.id }, d.yaml)));
      return el("tr", { "data-draft": d.id }, el("td", {}, d.id), version,
        el("td", { class: "status-" + d.status }, d.status + (d.rollback_to ? " (rollback)" : "")),
        el("td", {}, d.author), el("td", {}, d.proposed_by || "—"), el("td", {}, d.reason),
        el("td", {}, d.decided_by ? `${d.decided_by}, ${utc(d.decided_at_ms)}` : "—"), actions);
    }));
  }

  async function decide(id, how) {
    try {
      const d = await api("POST", `/api/thresholds/drafts/${id}/${how}`, { note: "" });
      say(how === "approve" ? `Version ${d.version} published (control offset ${d.published_offset}).` : `Proposal #${id} rejected.`);
      await Promise.all([loadDrafts(), loadInForce()]);
    } catch (error) { say(error.message, true); }
  }

  async function save() {
    if (!(await validate())) return null;
    const payload = { yaml: yamlBox.value };
    const d = draftId === null ? await api("POST", "/api/thresholds/drafts", payload)
      : await api("PUT", `/api/thresholds/drafts/${draftId}`, payload);
    draftId = d.id;
    document.getElementById("draft-status").textContent = `Draft #${d.id} saved (${d.version}).`;
    await loadDrafts();
    return d;
  }

  document.getElementById("save-draft").addEventListener("click", () => save().catch((e) => say(e.message, true)));
  document.getElementById("propose").addEventListener("click", async () => {
    const reason = document.getElementById("propose-reason").value.trim();
    if (!reason) { say("A proposal needs a reason.", true); return; }
    try {
      const d = await save();
      if (!d) return;
      await api("POST", `/api/thresholds/drafts/${d.id}/propose`, { reason });
      say(`Draft #${d.id} proposed: another lead or an admin approves it.`);
      draftId = null;
      await loadDrafts();
    } catch (error) { say(error.message, true); }
  });
  document.getElementById("run-whatif").addEventListener("click", async () => {
    const button = document.getElementById("run-whatif");
    const section = document.getElementById("whatif");
    section.setAttribute("aria-busy", "true");
    button.disabled = true;
    try {
      if (!(await validate())) return;
      const days = Number(document.getElementById("whatif-days").value);
      renderWhatIf(await api("POST", "/api/thresholds/whatif", { yaml: yamlBox.value, days }));
    } catch (error) { say(error.message, true); } finally {
      button.disabled = false;
      section.setAttribute("aria-busy", "false");
    }
  });

  loadInForce().then(loadDrafts).catch((e) => say(e.message, true));
}

function renderWhatIf(r) {
  document.getElementById("whatif").hidden = false;
  document.getElementById("whatif-title").textContent = `${r.draft_version} against ${r.current_version}`;
  document.getElementById("whatif-period").textContent =
    `${num(r.rows)} stored decisions from ${utc(r.period.from_ms)} to ${utc(r.period.to_ms)}; ` +
    `${num(r.unlabelled)} without a label yet; answered in ${r.elapsed_ms} ms.`;
  const days = r.period.days;
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const c = r.current, d = r.candidate, dc = r.daily.current, dd = r.daily.draft;
  const rows = [
    ["Approve", c.decisions.approve, d.decisions.approve, num],
    ["Review", c.decisions.review, d.decisions.review, num],
    ["Block", c.decisions.block, d.decisions.block, num],
    ["Alerts per day", sum(dc.alerts) / days, sum(dd.alerts) / days, (x) => num(x, 1)],
    [`Review hours per day (${r.review_minutes_per_case} min a case)`, sum(dc.review_hours) / days, sum(dd.review_hours) / days, (x) => num(x, 1)],
    ["Precision (labelled)", c.precision, d.precision, pct],
    ["Recall (labelled)", c.recall, d.recall, pct],
    ["Fraud caught (labelled)", c.fraud_caught, d.fraud_caught, num],
    ["Fraud missed (labelled)", c.fraud_missed, d.fraud_missed, num],
    ["Legitimate stopped (labelled)", c.false_positives, d.false_positives, num],
    ["Euro of fraud caught", c.euro_caught, d.euro_caught, eur],
    ["Euro of fraud missed", c.euro_missed, d.euro_missed, eur],
  ];
  fill(document.getElementById("whatif-summary"), rows.map(([name, a, b, f]) => {
    const delta = (a === null || b === null) ? null : b - a;
    const cls = delta > 0 ? "up" : delta < 0 ? "down" : "";
    return el("tr", { "data-row": name }, el("td", {}, name), el("td", { "data-col": "current" }, f(a)),
      el("td", { "data-col": "draft" }, f(b)),
      el("td", { class: cls, "data-col": "change" }, delta === null ? "—" : (delta > 0 ? "+" : "") + f(delta)));
  }));
  // The charts are SVG drawn by the panel itself, numbers and escaped labels only.
  document.getElementById("chart-histogram").innerHTML = r.charts.histogram;
  document.getElementById("chart-alerts").innerHTML = r.charts.alerts_per_day;
  fill(document.getElementById("whatif-segments"), r.segments.map((s) => el("tr", {},
    el("td", {}, s.segment), el("td", {}, num(s.rows)), el("td", {}, num(s.current.alerts)), el("td", {}, num(s.draft.alerts)),
    el("td", {}, pct(s.current.precision)), el("td", {}, pct(s.draft.precision)),
    el("td", {}, pct(s.current.recall)), el("td", {}, pct(s.draft.recall)))));
  const e = r.exploration;
  fill(document.getElementById("whatif-exploration"), [
    el("tr", {}, el("td", {}, "Explored payments (labelled / fraud)"), el("td", { colspan: 2 }, `${num(e.rows)} (${num(e.labelled)} / ${num(e.fraud)})`)),
    el("tr", {}, el("td", {}, "Weighted precision"), el("td", {}, pct(e.current.precision)), el("td", {}, pct(e.draft.precision))),
    el("tr", {}, el("td", {}, "Weighted recall"), el("td", {}, pct(e.current.recall)), el("td", {}, pct(e.draft.recall))),
    el("tr", {}, el("td", {}, "Weighted alerts"), el("td", {}, num(e.current.alerts, 1)), el("td", {}, num(e.draft.alerts, 1))),
  ]);
  document.getElementById("cannot-predict").textContent = r.cannot_predict;
  for (const [id, list, count] of [["new-positives", r.new_positive_txns, r.new_positives], ["lost-positives", r.lost_positive_txns, r.lost_positives]]) {
    document.getElementById(id === "new-positives" ? "new-count" : "lost-count").textContent = `(${num(count)}${count > list.length ? ", first " + list.length + " listed" : ""})`;
    fill(document.getElementById(id), list.map((t) => el("tr", {},
      el("td", {}, el("a", { href: "/decisions/" + encodeURIComponent(t.txn_id) }, t.txn_id)),
      el("td", {}, utc(t.event_ms)), el("td", {}, `${eur(t.amount_eur)} (${num(t.amount, 2)} ${t.currency})`),
      el("td", {}, `${t.mcc} ${t.channel} ${t.country}`), el("td", {}, "score " + Number(t.score).toFixed(3)))));
  }
}

// --- audit ---------------------------------------------------------------------------------
function auditPage() {
  const query = () => {
    const p = new URLSearchParams();
    const actor = document.getElementById("audit-actor").value.trim();
    const action = document.getElementById("audit-action").value.trim();
    const from = document.getElementById("audit-from").value;
    const to = document.getElementById("audit-to").value;
    if (actor) p.set("actor", actor);
    if (action) p.set("action", action);
    if (from) p.set("from_ms", Date.parse(from + "T00:00:00Z"));
    if (to) p.set("to_ms", Date.parse(to + "T00:00:00Z") + 86400000);
    return p.toString();
  };
  const show = (value) => (value === null || value === undefined ? "" : JSON.stringify(value));
  async function load() {
    const q = query();
    document.getElementById("audit-csv").href = "/api/audit.csv" + (q ? "?" + q : "");
    const rows = await api("GET", "/api/audit" + (q ? "?" + q : ""));
    fill(document.getElementById("audit"), rows.map((r) => el("tr", { "data-action": r.action },
      el("td", {}, utc(r.at_ms)), el("td", {}, r.actor), el("td", {}, r.role), el("td", {}, r.action),
      el("td", {}, r.target), el("td", {}, el("code", {}, show(r.before))), el("td", {}, el("code", {}, show(r.after))),
      el("td", {}, r.client))));
  }
  document.getElementById("audit-filters").addEventListener("submit", (e) => { e.preventDefault(); load().catch((x) => say(x.message, true)); });
  load().catch((x) => say(x.message, true));
}

// --- users ---------------------------------------------------------------------------------
function usersPage() {
  async function load() {
    const users = await api("GET", "/api/users");
    fill(document.getElementById("users"), users.map((u) => {
      const select = el("select", {}, ...ROLES.map((r) => el("option", { value: r, selected: r === u.role ? "selected" : null }, r)));
      const disabled = el("input", { type: "checkbox", checked: u.disabled ? "checked" : null });
      const save = el("button", { type: "button", class: "secondary", on: { click: async () => {
        try { await api("PATCH", "/api/users/" + encodeURIComponent(u.name), { role: select.value, disabled: disabled.checked }); say(`${u.name} updated.`); await load(); }
        catch (error) { say(error.message, true); } } } }, "Save");
      return el("tr", {}, el("td", {}, u.name), el("td", {}, select), el("td", {}, disabled), el("td", {}, utc(u.created_at_ms)), el("td", {}, save));
    }));
  }
  document.getElementById("user-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/api/users", { name: document.getElementById("user-name").value,
        role: document.getElementById("user-role").value, password: document.getElementById("user-password").value });
      say("User added."); event.target.reset(); await load();
    } catch (error) { say(error.message, true); }
  });
  load().catch((x) => say(x.message, true));
}

// --- one decision --------------------------------------------------------------------------
async function decisionPage() {
  const txn = document.getElementById("decision").dataset.txn;
  try {
    const d = await api("GET", "/api/decisions/" + encodeURIComponent(txn));
    const fields = [["Event time", utc(d.event_ms)], ["Decided at", utc(d.decided_at_ms)], ["Card", d.card_id], ["Merchant", d.merchant_id],
      ["Amount", `${eur(d.amount_eur)} (${num(d.amount, 2)} ${d.currency})`], ["Category, channel, country", `${d.mcc} ${d.channel} ${d.country}`],
      ["Decision", d.decision], ["Tier", d.tier], ["Score (base)", `${Number(d.score).toFixed(4)} (${Number(d.base_score).toFixed(4)})`],
      ["Versions: model, re-ranker, thresholds, features", `${d.model_version}, ${d.reranker_version}, ${d.threshold_version}, ${d.feature_version}`],
      ["Explored (propensity)", `${d.explored} (${d.propensity})`], ["Degraded, late", `${d.degraded}, ${d.late}`]];
    fill(document.getElementById("decision-fields"), fields.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
    fill(document.getElementById("decision-labels"), d.labels.map((l) => el("tr", {}, el("td", {}, l.label), el("td", {}, utc(l.reported_at_ms)), el("td", {}, l.source))));
  } catch (error) { say(error.message, true); }
}

// Each page's script; the scripts of the other pages (review.js, models.js, monitoring.js) add
// theirs, and all of them have run by DOMContentLoaded (they are deferred).
const PAGE_SCRIPTS = { login: loginPage, thresholds: thresholdsPage, audit: auditPage, users: usersPage, decision: decisionPage };
document.addEventListener("DOMContentLoaded", () => {
  gate();
  (PAGE_SCRIPTS[body.dataset.page] || (() => {}))();
});
