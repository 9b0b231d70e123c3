// The Monitoring page (helpers from panel.js): the running job's metrics, throughput, outcomes
// per hour, drift, quality, alerts and the review team's analytics. Text is set with
// textContent; the charts are SVG the panel drew itself.
"use strict";

const day = (ms) => new Date(ms).toISOString().slice(0, 10);

function tile(name, value, note, cls = "") {
  return el("div", { class: "tile " + cls, "data-tile": name }, el("div", { class: "tile-value" }, value),
    el("div", { class: "tile-name" }, name), note ? el("div", { class: "hint small" }, note) : "");
}

function alertText(a) {
  if (a.kind === "drift") return `Drift: PSI of ${a.subject} is ${num(a.psi, 3)} (over ${PSI_ALERT})`;
  if (a.kind === "rate") {
    return `The ${a.subject} rate of the last hour is ${pct(a.last_hour)}, ` +
      `more than 3 times off its 7-day baseline of ${pct(a.baseline_7d)}`;
  }
  if (a.kind === "degraded") return `${num(a.last_hour)} degraded decisions in the last hour (scored by the rules fallback instead of the model)`;
  return `${a.kind}: ${a.subject}`;
}

// The limit the server alerts at, from the page (monitoring.drift.ALERT_PSI).
const PSI_ALERT = Number(document.getElementById("alerts-card").dataset.psiAlert);

function monitoringPage() {
  const hoursBox = document.getElementById("window-hours");

  async function loadAlerts() {
    const alerts = await api("GET", "/api/monitoring/alerts");
    document.getElementById("alert-count").textContent = alerts.length ? `(${alerts.length})` : "";
    const items = alerts.map((a) => el("li", { class: "alert", "data-kind": a.kind, "data-subject": a.subject }, alertText(a)));
    if (!items.length) items.push(el("li", { class: "quiet" }, "No alert: no drift over the PSI limit, block and review rates near their baseline, no degraded decision in the last hour."));
    document.getElementById("alerts").replaceChildren(...items);
  }

  async function loadOverview() {
    const section = document.getElementById("overview");
    section.setAttribute("aria-busy", "true");
    const m = await api("GET", "/api/monitoring?hours=" + hoursBox.value);
    const sum = (key) => m.by_hour.reduce((a, h) => a + h[key], 0);
    const e = m.exploration;
    document.getElementById("tiles").replaceChildren(
      tile("decisions per second", num(m.decisions_per_second, 2), "over the last 5 minutes"),
      tile("decisions", num(m.decisions), `in ${m.hours} h`),
      tile("approve", num(sum("approve"))), tile("review", num(sum("review"))), tile("block", num(sum("block"))),
      tile("late", num(m.late), "came behind the watermark", m.late ? "warn" : ""),
      tile("degraded", num(m.degraded), "scored by the rules fallback", m.degraded ? "bad" : ""),
      tile("exploration", `${num(e.explored)} / ${num(e.max_count)}`,
        `${eur(e.amount_eur)} of ${eur(e.max_amount_eur)} in the last ${num(e.window_ms / 3600000, 1)} h`,
        e.explored >= e.max_count || e.amount_eur >= e.max_amount_eur ? "warn" : ""));
    document.getElementById("outcomes-chart").innerHTML = m.chart;
    document.getElementById("scores-chart").innerHTML = m.score_chart;
    const d = m.drift;
    document.getElementById("drift-model").textContent = d.model ? `(model ${d.model}, ${num(d.rows)} decisions)` : "";
    document.getElementById("drift-note").textContent = !d.model ? "No champion model: the rules decide, nothing to compare."
      : !d.reference ? `Model ${d.model} has no reference distributions (registered before they were kept).`
      : d.score_psi === null ? "Too few decisions of the champion in this window to measure drift." : `PSI over ${PSI_ALERT} is highlighted.`;
    const rows = [];
    if (d.score_psi !== null) rows.push({ feature: "score", psi: d.score_psi });
    rows.push(...[...d.features].sort((a, b) => b.psi - a.psi));
    fill(document.getElementById("drift"), rows.map((r) => el("tr", { class: r.psi > PSI_ALERT ? "drifted" : "", "data-feature": r.feature },
      el("td", {}, r.feature), el("td", {}, num(r.psi, 4)))));
    const days = m.quality.filter((q) => q.labelled > 0).reverse();
    const quality = days.map((q) => el("tr", {}, el("td", {}, day(q.day_ms)), el("td", {}, num(q.labelled)), el("td", {}, num(q.fraud)),
      el("td", {}, pct(q.precision)), el("td", {}, pct(q.recall))));
    if (!quality.length) quality.push(el("tr", {}, el("td", { colspan: 5, class: "hint" }, "No labelled decision in the last 30 days.")));
    fill(document.getElementById("quality"), quality);
    section.setAttribute("aria-busy", "false");
  }

  async function loadJob() {
    const section = document.getElementById("job");
    const j = await api("GET", "/api/monitoring/job");
    document.getElementById("job-name").textContent = `(${j.job})`;
    const state = document.getElementById("job-state");
    state.dataset.answers = String(j.answers);
    const numbers = document.getElementById("job-numbers");
    numbers.hidden = !j.answers;
    if (!j.answers) {
      state.className = "message bad";
      state.textContent = `The job's metrics endpoint does not answer: ${j.reason}.`;
      section.setAttribute("aria-busy", "false");
      return;
    }
    state.className = "hint";
    state.textContent = `The job's metrics endpoint answers at ${j.url}.`;
    const m = j.metrics;
    const decided = Object.values(m.decisions).reduce((a, b) => a + b, 0);
    const known = ["approve", "review", "block"];
    const outcomes = known.concat(Object.keys(m.decisions).filter((o) => !known.includes(o)).sort());
    const ms = (x) => (x === null ? "—" : `${num(x)} ms`);
    document.getElementById("job-tiles").replaceChildren(
      tile("decisions", num(decided), "since the job started"),
      ...outcomes.map((o) => tile(o, num(m.decisions[o] || 0))),
      tile("degraded", num(m.degraded), "scored by the rules fallback", m.degraded ? "bad" : ""),
      tile("late", num(m.late), "came behind the watermark", m.late ? "warn" : ""),
      tile("explored", num(m.explored), "approved to explore"),
      tile("latency p50", ms(m.latency_p50_ms), `from event time, ${num(m.latency_count)} decisions`),
      tile("latency p99", ms(m.latency_p99_ms), "from event time"));
    const reasons = Object.entries(m.dead_letters).sort((a, b) => b[1] - a[1]);
    const dead = reasons.map(([reason, n]) => el("tr", { "data-reason": reason }, el("td", {}, reason), el("td", {}, num(n))));
    if (!dead.length) dead.push(el("tr", {}, el("td", { colspan: 2, class: "hint" }, "No dead letter since the job started.")));
    fill(document.getElementById("job-dead-letters"), dead);
    // Several versions at once only while the job's subtasks are changing over.
    const versions = (xs) => (xs.length ? xs.join(", ") : "none reported");
    fill(document.getElementById("job-versions"), [
      el("tr", { "data-in-force": "model" }, el("td", {}, "model"), el("td", {}, versions(m.model_versions))),
      el("tr", { "data-in-force": "thresholds" }, el("td", {}, "thresholds"), el("td", {}, versions(m.threshold_versions)))]);
    section.setAttribute("aria-busy", "false");
  }

  async function loadReviews() {
    const section = document.getElementById("reviews");
    const r = await api("GET", "/api/monitoring/reviews");
    const total = (xs) => xs.reduce((a, b) => a + b, 0);
    const ttc = r.time_to_close_hours;
    document.getElementById("review-tiles").replaceChildren(
      tile("cases opened", num(total(r.opened)), `in ${r.days.length} days`),
      tile("cases closed", num(total(r.closed)), `in ${r.days.length} days`),
      tile("time to close", ttc.median === null ? "—" : `${num(ttc.median, 1)} h`, ttc.p90 === null ? "median" : `median; 90% within ${num(ttc.p90, 1)} h`),
      tile("analyst-lead agreement", r.kappa === null ? "—" : num(r.kappa, 2),
        `Cohen's kappa over ${num(r.escalated_pairs)} escalated case${r.escalated_pairs === 1 ? "" : "s"} with a lean`));
    document.getElementById("reviews-chart").innerHTML = r.chart;
    for (const part of ["tier", "segment"]) {
      const rows = r.false_positive_rate[part].map((x) => el("tr", { "data-key": x.key }, el("td", {}, x.key), el("td", {}, num(x.closed)),
        el("td", {}, num(x.legitimate)), el("td", {}, pct(x.rate))));
      if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 4, class: "hint" }, "No closed case yet.")));
      fill(document.getElementById("fp-" + part), rows);
    }
    section.setAttribute("aria-busy", "false");
  }

  hoursBox.addEventListener("change", () => loadOverview().catch((e) => say(e.message, true)));
  Promise.all([loadAlerts(), loadJob(), loadOverview(), loadReviews()]).catch((e) => say(e.message, true));
}

PAGE_SCRIPTS.monitoring = monitoringPage;
