// The Models page (helpers from panel.js): registry, champion and shadow challenger, their
// comparison, the lifecycle log, re-ranker snapshots; leads and admins promote, roll back and
// freeze with a reason; the learning loop's last retrain and labels per day and source. Text is
// set with textContent.
"use strict";

const OFFSET_METRIC = "labels_offset.";
const isoTime = (text) => (text ? utc(Date.parse(text)) : "—");
const isoMinute = (text) => isoTime(text).replace(/:\d\d UTC/, " UTC");

function modelsPage() {
  const reasonBox = document.getElementById("model-reason");

  function reason() {
    const text = reasonBox.value.trim();
    if (!text) { say("Write the reason first: every promotion, rollback and freeze is audited with it.", true); reasonBox.focus(); }
    return text;
  }

  async function change(path, payload, done) {
    try {
      const answer = await api("POST", path, payload);
      say(done(answer));
      reasonBox.value = "";
      await load();
    } catch (error) { say(error.message, true); }
  }

  const curveSrc = (m) => `/api/models/${encodeURIComponent(m.version)}/pr_curve.png`;

  function prCurves(models) {
    const figures = models.filter((m) => m.has_pr_curve).map((m) => el("figure", { id: "pr-" + m.version },
      el("img", { src: curveSrc(m), alt: `precision-recall curve of ${m.version}`, class: "pr-curve", loading: "lazy" }),
      el("figcaption", {}, el("code", {}, m.version), m.champion ? " (champion)" : "")));
    if (!figures.length) figures.push(el("p", { class: "hint" }, "No model has a PR curve image."));
    document.getElementById("pr-curves").replaceChildren(...figures);
  }

  function modelRow(m) {
    const action = el("td");
    if (allows("lead") && !m.champion) {
      action.append(el("button", { type: "button", class: "secondary", "data-promote": m.version,
        disabled: m.servable ? null : "disabled", title: m.servable ? "make it the champion" : "built for another feature set",
        on: { click: () => { const why = reason(); if (why) change("/api/models/promote", { version: m.version, reason: why },
          (a) => `${a.champion} is the champion (was ${a.was || "none"}); the job follows within seconds.`); } } }, "Promote"));
    }
    return el("tr", { "data-model": m.version, class: m.champion ? "champion" : "" },
      el("td", {}, el("code", {}, m.version), " ", m.champion ? el("span", { class: "badge status-published" }, "champion") : "",
        m.challenger ? el("span", { class: "badge status-proposed" }, "challenger") : ""),
      el("td", { class: "nowrap small" }, isoMinute(m.created_at)),
      el("td", { class: "nowrap" }, m.feature_set_version), el("td", {}, m.servable ? "yes" : "no"),
      el("td", { class: "number" }, num(m.scale_pos_weight, 2)),
      el("td", {}, el("code", { class: "small", title: m.training_data_hash || "" }, (m.training_data_hash || "—").slice(0, 16))),
      el("td", { class: "number" }, num(m.rows)),
      el("td", { class: "number" }, m.average_precision === null || m.average_precision === undefined ? "—" : num(m.average_precision, 4)),
      el("td", {}, m.has_pr_curve ? el("a", { href: "#pr-" + m.version }, "curve") : "—"), action);
  }

  function guardFigures(metrics) {
    return Object.entries(metrics).filter(([k]) => !k.startsWith(OFFSET_METRIC))
      .map(([k, v]) => `${k} ${num(v, 4)}`).join(" · ") || "—";
  }

  function rerankerRow(r) {
    const action = el("td");
    if (r.in_force) action.append(el("span", { class: "badge status-published" }, "in force"));
    else if (allows("lead")) {
      action.append(el("button", { type: "button", class: "secondary", "data-reranker-rollback": r.version,
        on: { click: () => { const why = reason(); if (why) change("/api/models/rerankers/rollback", { to: r.version, reason: why },
          (a) => `Re-ranker ${a.version} is published again.`); } } }, "Roll back to this"));
    }
    return el("tr", { "data-reranker": r.version }, el("td", {}, el("code", {}, r.version)),
      el("td", { class: "nowrap" }, utc(r.created_at_ms)), el("td", { class: "number" }, num(r.labels_learnt)),
      el("td", {}, r.base_model_version || "—"), el("td", { class: "small" }, guardFigures(r.metrics)), action);
  }

  const ap = (x) => (x === null || x === undefined ? "not enough labels" : num(x, 4));

  async function loadComparison() {
    const c = await api("GET", "/api/models/comparison");
    const missing = document.getElementById("comparison-missing");
    missing.replaceChildren(...c.not_enough.map((text) => el("li", { class: "hint" }, text)));
    const table = document.getElementById("comparison");
    const gateLine = document.getElementById("comparison-gate");
    table.hidden = !c.comparable;
    if (!c.comparable) { gateLine.textContent = ""; return; }
    const f = c.figures;
    document.getElementById("comparison-scope").textContent = `${c.champion} against ${c.challenger} on the newest ` +
      `${num(f.decisions)} stored decisions both scored (at most ${num(c.max_compared)}); an unlabelled approval counts ` +
      `as legitimate after ${num(c.label_window_days)} days.`;
    fill(table, [
      el("tr", {}, el("td", {}, "Average precision, matured labels"), el("td", { class: "number" }, ap(f.ap_champion_matured)),
        el("td", { class: "number" }, ap(f.ap_challenger_matured)), el("td", {}, `${num(f.labelled)} labelled (${num(f.fraud_labelled)} fraud); biased by what the champion stopped`)),
      el("tr", {}, el("td", {}, "Average precision, explored sample"), el("td", { class: "number" }, ap(f.ap_champion_unbiased)),
        el("td", { class: "number" }, ap(f.ap_challenger_unbiased)), el("td", {}, `${num(f.explored_labelled)} labelled of ${num(f.explored)} explored (${num(f.explored_fraud)} fraud), weighted by 1/propensity`)),
      el("tr", {}, el("td", {}, "Score PSI against the champion"), el("td", {}, "—"), el("td", { class: "number" }, num(f.score_psi, 3)),
        el("td", {}, `${num(f.decisions)} decisions`)),
      el("tr", {}, el("td", {}, "Scoring cost (tree nodes)"), el("td", { class: "number" }, num(f.cost_champion)),
        el("td", { class: "number" }, num(f.cost_challenger)), el("td", {}, "per payment")),
    ]);
    gateLine.className = c.gate.allowed ? "status-published" : "";
    gateLine.textContent = c.gate.allowed ? "Promotion gate: passes."
      : "Promotion gate: refuses — " + c.gate.reasons.join("; ") + ".";
  }

  async function loadLifecycle() {
    const l = await api("GET", "/api/models/lifecycle");
    const hint = document.getElementById("lifecycle-hint");
    hint.textContent = (l.people_shown
      ? "The governor's promotions and rollbacks (control topic) and the changes people made here (audit log), newest first, each with its reasons."
      : "The governor's promotions and rollbacks (control topic), newest first, each with its reasons; the audit log has the changes people made.")
      + (l.automatic_unavailable ? ` The control topic cannot be read now: ${l.automatic_unavailable}` : "");
    document.getElementById("last-round").textContent = l.last_round
      ? `Governor's newest notice (its service notes a round that changes nothing only when the reason changes), ${utc(l.last_round.at_ms)}: ${l.last_round.action === "none" ? "changed nothing" : l.last_round.action + " " + (l.last_round.version || "")}` +
        (l.last_round.reasons.length ? ` (${l.last_round.reasons.join("; ")})` : "") + "."
      : "The governor has not run yet (`fraudguard governor run`, or once over a file: `fraudguard model govern`).";
    const rows = l.events.map((e) => el("tr", { "data-action": e.action }, el("td", { class: "nowrap" }, utc(e.at_ms)), el("td", {}, e.by),
      el("td", {}, e.action), el("td", {}, e.version ? el("code", {}, e.version) : "—"), el("td", {}, e.reasons.join("; ") || "—")));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 5, class: "hint" }, "Nothing yet.")));
    fill(document.getElementById("lifecycle"), rows);
  }

  const signed = (x) => (x === null || x === undefined ? "n/a" : (x >= 0 ? "+" : "") + num(x, 4));
  const PARTS = { unbiased_sample: "unbiased sample", ground_truth: "ground truth (evaluation only)" };

  async function loadRetrain() {
    const r = (await api("GET", "/api/models/retrain")).retrain;
    const line = document.getElementById("retrain-line");
    const table = document.getElementById("retrain");
    table.hidden = true;
    if (!r) { line.textContent = "No model was retrained yet (`fraudguard retrain`)."; return; }
    const standing = r.champion ? "the champion now" : r.challenger ? "the shadow challenger now"
      : `neither champion nor challenger (\`fraudguard model challenger ${r.version}\` to score it beside the champion)`;
    if (r.report_error) { line.textContent = `${r.version}, retrained ${isoMinute(r.created_at)}, ${r.winner} won; ${standing}. Its report cannot be shown: ${r.report_error}.`; return; }
    const m = r.winner_margin;
    const margin = m.average_precision === null ? "the unbiased sample held no fraud, so the naive model is kept"
      : `by ${signed(m.average_precision)} average precision on the unbiased sample (recall at budget ${signed(m.recall_at_budget)})`;
    line.textContent = `${r.version}, retrained ${isoMinute(r.created_at)}: ${r.winner} won, ${margin}. ` +
      `Bank labels known at ${utc(r.cutoff_ms)}; test period from ${utc(r.test_from_ms)}; trained on ${num(r.training_rows)} decisions ` +
      `with ${num(r.training_frauds)} known frauds (stopped payments: ${r.blocked_policy}). It is ${standing}.`;
    const rows = [];
    for (const [name, parts] of Object.entries(r.measures)) {
      for (const [part, x] of Object.entries(parts)) {
        rows.push(el("tr", { "data-retrain": `${name} ${part}`, class: name === r.winner ? "winner" : "" },
          el("td", {}, name === r.winner ? `${name} (won)` : name), el("td", {}, PARTS[part] || part),
          el("td", { class: "number" }, num(x.rows)), el("td", { class: "number" }, num(x.frauds)),
          el("td", { class: "number" }, x.average_precision === null ? "n/a" : num(x.average_precision, 4)),
          el("td", { class: "number" }, x.recall_at_budget === null ? "n/a" : num(x.recall_at_budget, 4))));
      }
    }
    fill(table, rows);
    table.hidden = false;
  }

  const sourceName = (s) => s || "(no source)";
  const split = (c) => `${num(c.fraud)} / ${num(c.legit)}`;

  async function loadLabels() {
    const l = await api("GET", "/api/models/labels?days=30");
    const table = document.getElementById("labels-per-day");
    table.tHead.rows[0].replaceChildren(el("th", {}, "Day (UTC)"), ...l.sources.map((s) => el("th", {}, sourceName(s))), el("th", {}, "All"));
    document.getElementById("labels-hint").textContent = `Label records the panel ingested from the labels topic in the last ${num(l.days)} days, ` +
      "by the UTC day they were reported, newest first: fraud / legitimate per source (review: analysts' verdicts in this panel). " +
      "A correction is a record of its own.";
    const all = (counts) => Object.values(counts).reduce((a, c) => ({ fraud: a.fraud + c.fraud, legit: a.legit + c.legit }), { fraud: 0, legit: 0 });
    const row = (label, counts, attrs) => el("tr", attrs, el("td", { class: "nowrap" }, label),
      ...l.sources.map((s) => el("td", {}, split(counts[s]))), el("td", {}, split(all(counts))));
    const rows = [row(`${num(l.days)} days`, l.totals, { class: "total" })];
    if (!l.sources.length) rows.push(el("tr", {}, el("td", { colspan: 2, class: "hint" }, "No label was reported in these days.")));
    else for (const d of [...l.per_day].reverse()) rows.push(row(utc(d.day_ms).slice(0, 10), d.sources, { "data-day": utc(d.day_ms).slice(0, 10) }));
    fill(table, rows);
  }

  async function loadLoop() {
    const card = document.getElementById("loop-card");
    card.setAttribute("aria-busy", "true");
    await Promise.all([loadRetrain(), loadLabels()]);
    card.setAttribute("aria-busy", "false");
  }

  async function load() {
    const card = document.getElementById("models-card");
    card.setAttribute("aria-busy", "true");
    const [registry, rerankers] = await Promise.all([api("GET", "/api/models"), api("GET", "/api/models/rerankers")]);
    document.getElementById("champion").textContent = registry.champion || "none (the rules decide)";
    document.getElementById("champion-since").textContent = registry.promoted_at
      ? `Champion since ${isoTime(registry.promoted_at)}.` : "";
    document.getElementById("challenger-line").textContent = registry.challenger
      ? `Shadow challenger ${registry.challenger} since ${isoTime(registry.challenger_since)}: scored beside the champion, deciding nothing.`
      : "No shadow challenger (`fraudguard model challenger VERSION`).";
    const freezeLine = document.getElementById("freeze-line");
    freezeLine.className = registry.frozen ? "status-escalated" : "";
    freezeLine.textContent = registry.frozen
      ? `Automatic promotions and rollbacks are frozen: ${registry.frozen_reason}.`
      : "Automatic promotions and rollbacks may act.";
    document.getElementById("model-freeze").textContent = registry.frozen ? "Freeze again (new reason)" : "Freeze automatic changes";
    document.getElementById("model-unfreeze").hidden = !registry.frozen;
    loadComparison().catch((e) => say(e.message, true));
    loadLifecycle().catch((e) => say(e.message, true));
    loadLoop().catch((e) => say(e.message, true));
    const rows = registry.models.map(modelRow);
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 10, class: "hint" }, "No model is registered: the job decides with the rules.")));
    fill(document.getElementById("registry"), rows);
    prCurves(registry.models);
    const history = [{ version: registry.champion, promoted_at: registry.promoted_at, now: true },
      ...[...registry.history].reverse()].filter((h) => h.version);
    fill(document.getElementById("champion-history"), history.map((h) => el("tr", {},
      el("td", {}, el("code", {}, h.version)), el("td", {}, isoTime(h.promoted_at)),
      el("td", {}, h.now ? "champion now" : ""))));
    const snapshots = rerankers.map(rerankerRow);
    if (!snapshots.length) snapshots.push(el("tr", {}, el("td", { colspan: 6, class: "hint" }, "No re-ranker snapshot is published yet.")));
    fill(document.getElementById("rerankers"), snapshots);
    const rollback = document.getElementById("model-rollback");
    const previous = registry.history[registry.history.length - 1];
    rollback.disabled = !previous;
    rollback.textContent = previous ? `Roll back to ${previous.version}` : "Roll back (no earlier champion)";
    card.setAttribute("aria-busy", "false");
  }

  document.getElementById("model-rollback").addEventListener("click", () => {
    const why = reason();
    if (why) change("/api/models/rollback", { reason: why }, (a) => `${a.champion} is the champion again (was ${a.was}); the job follows within seconds.`);
  });
  document.getElementById("model-freeze").addEventListener("click", () => {
    const why = reason();
    if (why) change("/api/models/freeze", { reason: why }, () => "Automatic model changes are frozen; people can still promote and roll back.");
  });
  document.getElementById("model-unfreeze").addEventListener("click", () => {
    change("/api/models/unfreeze", { reason: reasonBox.value.trim() }, () => "Automatic model changes may act again.");
  });
  load().catch((e) => say(e.message, true));
}

PAGE_SCRIPTS.models = modelsPage;
