// The review queue and the case page (helpers from panel.js); text is set with textContent.
"use strict";

const VERDICT_TEXT = { fraud: "fraud", legit: "legitimate", escalate: "escalated" };

function duration(ms) {
  const minutes = Math.round(Math.abs(ms) / 60000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function slaCell(dueMs, status) {
  const left = dueMs - Date.now();
  const closed = status === "closed";
  const cls = closed ? "sla" : left < 0 ? "sla overdue" : left < 3600000 ? "sla soon" : "sla";
  const clock = closed ? "closed" : left < 0 ? `overdue by ${duration(left)}` : `${duration(left)} left`;
  return el("td", { class: cls, "data-sla-due": dueMs },
    el("span", { class: "clock" }, clock), el("br"), el("span", { class: "hint small" }, "due " + utcMinute(dueMs)));
}

// To the minute: the queue's clocks do not need seconds, and the rows stay one line wide.
const utcMinute = (ms) => utc(ms).replace(/:\d\d UTC/, " UTC");

function segment(row) { return [row.mcc, row.channel, row.country].filter(Boolean).join(" · "); }

function statusText(c) {
  if (c.status === "closed") return `closed: ${VERDICT_TEXT[c.final_verdict] || c.final_verdict}`;
  if (c.status === "escalated") return "escalated" + (c.first_verdict ? `, leaning ${VERDICT_TEXT[c.first_verdict]}` : "");
  return "open";
}

async function takeNext() {
  try {
    const taken = await api("POST", "/api/cases/next");
    if (taken) location.href = "/cases/" + taken.id;
    else say("No open case is waiting for someone: the queue is clear.");
  } catch (error) { say(error.message, true); }
}

// --- the queue -----------------------------------------------------------------------------
const PAGE_SIZE = 50;

function queuePage() {
  const ids = ["status", "assignee", "assignee-name", "tier", "mcc", "channel", "country", "age"];
  const field = (name) => document.getElementById("f-" + name);
  const nameLabel = document.getElementById("f-assignee-name-label");
  const selected = new Set();
  let offset = 0;
  let total = 0;

  // The filters live in the address, so a filtered queue can be bookmarked or sent.
  const start = new URLSearchParams(location.search);
  for (const name of ids) if (start.has(name)) field(name).value = start.get(name);
  offset = Number(start.get("offset") || 0) || 0;
  nameLabel.hidden = field("assignee").value !== "other";
  field("assignee").addEventListener("change", () => { nameLabel.hidden = field("assignee").value !== "other"; });

  function params() {
    const p = new URLSearchParams();
    p.set("status", field("status").value);
    const assignee = field("assignee").value;
    const named = field("assignee-name").value.trim();
    if (assignee === "other" && named) p.set("assignee", named);
    else if (assignee && assignee !== "other") p.set("assignee", assignee);
    for (const name of ["tier", "mcc", "channel"]) {
      const value = field(name).value.trim();
      if (value) p.set(name, value);
    }
    const country = field("country").value.trim().toUpperCase();
    if (country) p.set("country", country);
    const [side, hours] = field("age").value.split(":");
    if (hours) p.set(side === "older" ? "older_than_h" : "newer_than_h", hours);
    p.set("limit", PAGE_SIZE);
    p.set("offset", offset);
    return p;
  }

  function remember() {
    const shown = new URLSearchParams();
    for (const name of ids) if (field(name).value) shown.set(name, field(name).value);
    if (offset) shown.set("offset", offset);
    history.replaceState(null, "", "/cases" + (shown.toString() ? "?" + shown : ""));
  }

  function updateSelection() {
    document.getElementById("selected-count").textContent = `${selected.size} selected`;
    for (const button of document.querySelectorAll("[data-bulk]")) button.disabled = selected.size === 0;
  }

  async function load() {
    const table = document.getElementById("queue");
    table.setAttribute("aria-busy", "true");
    const page = await api("GET", "/api/cases?" + params());
    remember();
    total = page.total;
    selected.clear();
    document.getElementById("select-all").checked = false;
    document.getElementById("queue-total").textContent = `${num(total)} case${total === 1 ? "" : "s"}`;
    const rows = page.cases.map((c) => {
      const cells = [];
      if (allows("analyst")) {
        cells.push(el("td", {}, el("input", { type: "checkbox", "data-select": c.id, "aria-label": `select case ${c.id}`,
          on: { change: (e) => { if (e.target.checked) selected.add(c.id); else selected.delete(c.id); updateSelection(); } } })));
      }
      const mine = c.assignee && c.assignee === me;
      cells.push(
        el("td", { class: "case" }, el("a", { href: "/cases/" + c.id, class: "case-link" }, "#" + c.id), el("br"), el("code", { class: "small hint" }, c.txn_id)),
        el("td", { class: "number" }, num(c.priority, 2)),
        slaCell(c.sla_due_ms, c.status),
        el("td", { class: "status-" + c.status }, statusText(c)),
        el("td", { class: mine ? "mine" : "" }, c.assignee ? (mine ? `${c.assignee} (you)` : c.assignee) : "—"),
        el("td", { class: "number" }, Number(c.score).toFixed(3)),
        el("td", { class: "number" }, eur(c.amount_eur)),
        el("td", {}, c.tier),
        el("td", { class: "segment" }, segment(c)),
        el("td", { class: "nowrap", title: "opened " + utc(c.opened_at_ms) }, duration(Date.now() - c.opened_at_ms) + " ago"));
      return el("tr", { "data-case": c.id, "data-status": c.status }, ...cells);
    });
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 11, class: "hint" }, "No case matches these filters.")));
    fill(table, rows);
    const last = Math.min(offset + PAGE_SIZE, total);
    document.getElementById("page-info").textContent = total ? `${offset + 1}–${last} of ${num(total)}` : "";
    document.getElementById("page-prev").disabled = offset === 0;
    document.getElementById("page-next").disabled = last >= total;
    updateSelection();
    table.setAttribute("aria-busy", "false");
  }
  const reload = () => load().catch((e) => say(e.message, true));

  document.getElementById("queue-filters").addEventListener("submit", (e) => { e.preventDefault(); offset = 0; reload(); });
  document.getElementById("queue-filters").addEventListener("reset", () => {
    setTimeout(() => { nameLabel.hidden = true; offset = 0; reload(); }, 0);
  });
  document.getElementById("page-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE_SIZE); reload(); });
  document.getElementById("page-next").addEventListener("click", () => { offset += PAGE_SIZE; reload(); });
  document.getElementById("take-next").addEventListener("click", takeNext);
  document.getElementById("select-all").addEventListener("change", (e) => {
    for (const box of document.querySelectorAll("[data-select]")) {
      box.checked = e.target.checked;
      const id = Number(box.dataset.select);
      if (box.checked) selected.add(id); else selected.delete(id);
    }
    updateSelection();
  });
  for (const button of document.querySelectorAll("[data-bulk]")) {
    button.addEventListener("click", async () => {
      const action = button.dataset.bulk;
      for (const b of document.querySelectorAll("[data-bulk]")) b.disabled = true;
      try {
        const result = await api("POST", "/api/cases/bulk", { ids: [...selected], action });
        const refused = Object.entries(result.refused);
        say(`${VERDICT_TEXT[action] || action}: ${result.done.length} done` +
          (refused.length ? `; ${refused.length} refused (${refused.slice(0, 3).map(([id, why]) => `#${id}: ${why}`).join("; ")})` : "."),
          refused.length > 0);
      } catch (error) { say(error.message, true); }
      await reload();
    });
  }
  // The SLA clocks keep running while the page is open.
  setInterval(() => {
    for (const cell of document.querySelectorAll("td[data-sla-due]")) {
      const row = cell.closest("tr");
      cell.replaceWith(slaCell(Number(cell.dataset.slaDue), row.dataset.status));
    }
  }, 30000);
  reload();
}

// --- one case ------------------------------------------------------------------------------
function fieldRows(table, pairs) {
  fill(table, pairs.map(([name, value]) => el("tr", {}, el("th", {}, name), el("td", {}, value))));
}

// A card has some forty features: two a row keep the page from growing three screens long.
function featureRows(table, features, perRow) {
  const cells = Object.keys(features || {}).sort().map((name) => [el("td", {}, name),
    el("td", { class: "number" }, features[name] === null ? "—" : num(features[name], 4))]);
  const rows = [];
  for (let i = 0; i < cells.length; i += perRow) rows.push(el("tr", {}, ...cells.slice(i, i + perRow).flat()));
  fill(table, rows);
}

function casePage() {
  const section = document.getElementById("case");
  const caseId = section.dataset.case;
  const show = (id, visible) => { document.getElementById(id).hidden = !visible; };

  // One request at a time: a double click sends one verdict (the server would refuse the
  // second anyway), and the buttons come back with the case as it now is.
  async function act(path, payload, done) {
    for (const button of document.querySelectorAll("#case-actions button")) button.disabled = true;
    try {
      await api("POST", `/api/cases/${caseId}/${path}`, payload);
      say(done);
    } catch (error) { say(error.message, true); }
    await load();
  }

  function verdict(kind) {
    const note = document.getElementById("verdict-note").value.trim();
    const lean = kind === "escalate" ? document.getElementById("escalate-lean").value || null : null;
    const text = kind === "escalate" ? "Escalated to the leads." : `Closed as ${VERDICT_TEXT[kind]}: the label is on its way.`;
    return act("verdict", { verdict: kind, note, lean }, text);
  }

  document.getElementById("claim").addEventListener("click", () => act("claim", undefined, "The case is yours."));
  document.getElementById("release").addEventListener("click", () => act("release", undefined, "The case is back in the queue."));
  for (const kind of ["fraud", "legit", "escalate"]) {
    document.getElementById("verdict-" + kind).addEventListener("click", () => verdict(kind));
  }
  for (const kind of ["fraud", "legit"]) {
    document.getElementById("settle-" + kind).addEventListener("click", () => verdict(kind));
  }
  document.getElementById("correct").addEventListener("click", () => {
    const reason = document.getElementById("correct-reason").value.trim();
    if (!reason) { say("A correction needs a reason.", true); return; }
    const to = document.getElementById("correct-verdict").value;
    act("correct", { verdict: to, reason }, `Corrected to ${VERDICT_TEXT[to]}: a new label supersedes the old one.`);
  });

  function renderActions(c) {
    const mine = c.assignee === me;
    const someoneElse = c.assignee && !mine && !allows("lead");
    show("case-actions", allows("analyst"));
    show("analyst-actions", allows("analyst") && c.status === "open");
    show("claim", !mine);
    show("release", Boolean(c.assignee) && (mine || allows("lead")));
    for (const id of ["claim", "release", "verdict-fraud", "verdict-legit", "verdict-escalate"]) {
      const button = document.getElementById(id);
      button.disabled = Boolean(someoneElse);
      button.title = someoneElse ? `${c.assignee} holds this case` : "";
    }
    for (const id of ["settle-fraud", "settle-legit", "correct"]) document.getElementById(id).disabled = false;
    show("lead-settle", allows("lead") && c.status === "escalated");
    document.getElementById("settle-text").textContent = c.status === "escalated"
      ? `${c.first_by || "An analyst"} escalated it${c.first_verdict ? `, leaning ${VERDICT_TEXT[c.first_verdict]}` : " without a lean"}. Your verdict settles it:`
      : "";
    show("lead-correct", allows("lead") && c.status === "closed");
  }

  function renderWhy(why) {
    const chart = document.getElementById("contribution-chart");
    if (!why.available) {
      document.getElementById("why-text").textContent = "No explanation: " + why.why;
      chart.replaceChildren();
      fill(document.getElementById("contributions"), []);
      return;
    }
    const shown = why.top.reduce((sum, t) => sum + t.contribution, 0);
    document.getElementById("why-text").textContent =
      `Model ${why.model_version}: base value ${num(why.bias, 4)} plus the contributions of every feature ` +
      `make the logit ${num(why.logit, 4)}, a base score of ${num(why.score, 4)}. ` +
      `The ${why.top.length} largest shown here add ${shown >= 0 ? "+" : ""}${num(shown, 4)}; red pushes towards fraud, green away.`;
    // SVG drawn by the panel itself: numbers and escaped feature names only.
    chart.innerHTML = why.chart;
    fill(document.getElementById("contributions"), why.top.map((t) => el("tr", { "data-feature": t.feature },
      el("td", {}, t.feature), el("td", {}, t.value === null ? "missing" : num(t.value, 4)),
      el("td", { class: t.contribution >= 0 ? "up" : "down" }, (t.contribution >= 0 ? "+" : "") + num(t.contribution, 4)))));
  }

  function render(view) {
    const c = view.case, d = view.decision;
    const status = document.getElementById("case-status");
    status.textContent = statusText(c) + (c.assignee && c.status !== "closed" ? ` · ${c.assignee}` : "");
    status.className = "badge status-" + c.status;
    section.dataset.status = c.status;
    const left = c.sla_due_ms - Date.now();
    document.getElementById("case-summary").textContent =
      `${eur(d.amount_eur)} (${num(d.amount, 2)} ${d.currency}) at ${d.merchant_id} · score ${Number(d.score).toFixed(3)} · ` +
      `priority ${num(c.priority, 2)} · SLA due ${utc(c.sla_due_ms)}` +
      (c.status === "closed" ? "" : left < 0 ? ` (overdue by ${duration(left)})` : ` (${duration(left)} left)`);
    fieldRows(document.getElementById("payment"), [
      ["Transaction", el("code", {}, d.txn_id)], ["Card", d.card_id], ["Merchant", d.merchant_id],
      ["Time of payment", utc(d.event_ms)], ["Amount", `${eur(d.amount_eur)} (${num(d.amount, 2)} ${d.currency})`],
      ["Category, channel, country", segment(d)],
    ]);
    const closedBy = c.status === "closed" ? `${VERDICT_TEXT[c.final_verdict]} by ${c.final_by}, ${utc(c.closed_at_ms)}` : "—";
    fieldRows(document.getElementById("decision-versions"), [
      ["Decision, tier", `${d.decision}, tier ${d.tier}`],
      ["Score (base score)", `${Number(d.score).toFixed(4)} (${Number(d.base_score).toFixed(4)})`],
      ["Model", d.model_version], ["Re-ranker", d.reranker_version], ["Thresholds", d.threshold_version],
      ["Features", d.feature_version], ["Decided at", utc(d.decided_at_ms)],
      ["Explored (propensity), degraded, late", `${d.explored ? "yes" : "no"} (${d.propensity}), ${d.degraded ? "yes" : "no"}, ${d.late ? "yes" : "no"}`],
      ["First analyst: verdict, or lean when escalated", c.first_by ? `${c.first_by}: ${VERDICT_TEXT[c.first_verdict] || "no lean"}` : "—"],
      ["Final verdict", closedBy],
    ]);
    renderWhy(view.contributions);
    const labels = view.labels.map((l) => {
      const p = l.provenance || {};
      return el("tr", { "data-label-id": p.label_id || "" }, el("td", { class: "label-" + l.label }, VERDICT_TEXT[l.label] || l.label),
        el("td", {}, utc(l.reported_at_ms)), el("td", {}, l.source), el("td", {}, p.analyst || "—"),
        el("td", {}, p.guideline_version || "—"), el("td", {}, el("code", {}, p.label_id || "—")),
        el("td", {}, p.supersedes ? `${p.supersedes}: ${p.reason || ""}` : ""));
    });
    if (!labels.length) {
      const pending = c.label_id ? `Label ${c.label_id} is sent; it shows here once the panel has read it back.` : "No label yet.";
      labels.push(el("tr", {}, el("td", { colspan: 7, class: "hint" }, pending)));
    }
    fill(document.getElementById("case-labels"), labels);
    fill(document.getElementById("recent"), view.recent.map((r) => el("tr", { class: r.txn_id === d.txn_id ? "current" : "" },
      el("td", { class: "nowrap" }, utc(r.event_ms)),
      el("td", {}, el("a", { href: "/decisions/" + encodeURIComponent(r.txn_id) }, r.txn_id)),
      el("td", {}, `${eur(r.amount_eur)} (${num(r.amount, 2)} ${r.currency})`), el("td", {}, r.merchant_id),
      el("td", {}, segment(r)), el("td", { class: "number" }, Number(r.score).toFixed(3)),
      el("td", { class: "decision-" + r.decision }, r.decision))));
    const online = view.online;
    document.getElementById("online-why").textContent = online.available ? "" : online.why;
    for (const entity of ["card", "merchant"]) {
      const stored = online.available ? online[entity] : null;
      document.getElementById(`online-${entity}-when`).textContent = stored
        ? `as of ${utc(stored.ts_ms)}, after ${stored.txn_id}` : online.available ? "nothing stored for it" : "unavailable";
      featureRows(document.getElementById("online-" + entity), stored ? stored.features : {}, entity === "card" ? 2 : 1);
    }
    renderActions(c);
  }

  async function load() {
    section.setAttribute("aria-busy", "true");
    try { render(await api("GET", "/api/cases/" + caseId)); } catch (error) { say(error.message, true); }
    section.setAttribute("aria-busy", "false");
  }
  const next = document.getElementById("case-next");
  if (next) next.addEventListener("click", takeNext);
  load();
}

PAGE_SCRIPTS.cases = queuePage;
PAGE_SCRIPTS.case = casePage;
