// The Models page (helpers from panel.js): registry, champion history, re-ranker snapshots;
// leads and admins promote and roll back with a reason. Text is set with textContent.
"use strict";

const OFFSET_METRIC = "labels_offset.";
const isoTime = (text) => (text ? utc(Date.parse(text)) : "—");
const isoMinute = (text) => isoTime(text).replace(/:\d\d UTC/, " UTC");

function modelsPage() {
  const reasonBox = document.getElementById("model-reason");

  function reason() {
    const text = reasonBox.value.trim();
    if (!text) { say("Write the reason first: every promotion and rollback is audited with it.", true); reasonBox.focus(); }
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
      el("td", {}, el("code", {}, m.version), " ", m.champion ? el("span", { class: "badge status-published" }, "champion") : ""),
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

  async function load() {
    const card = document.getElementById("models-card");
    card.setAttribute("aria-busy", "true");
    const [registry, rerankers] = await Promise.all([api("GET", "/api/models"), api("GET", "/api/models/rerankers")]);
    document.getElementById("champion").textContent = registry.champion || "none (the rules decide)";
    document.getElementById("champion-since").textContent = registry.promoted_at
      ? `Champion since ${isoTime(registry.promoted_at)}.` : "";
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
  load().catch((e) => say(e.message, true));
}

PAGE_SCRIPTS.models = modelsPage;
