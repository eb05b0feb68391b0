// The dashboard page: polls the read-only JSON routes and redraws the charts in place.
"use strict";

const LIVE_EVERY_MS = 500;
const DAY_EVERY_MS = 30000;
const ORANGE = "#f76707", BLUE = "#1c7ed6", GREEN = "#2f9e44", GREY = "#868e96";
const PALETTE = ["#1c7ed6", "#f76707", "#2f9e44", "#ae3ec9", "#e03131", "#0ca678", "#f59f00", "#495057"];
const charts = {};
window.dashboardCharts = charts;  // for the browser tests and a curious user's console
const params = new URLSearchParams(location.search);
let chosenDay = params.get("date") || "";
let seenAlerts = new Set();

function $(id) { return document.getElementById(id); }

function setText(id, value) {
  const el = $(id);
  el.textContent = value === null || value === undefined ? "–" : Number(value).toLocaleString("en");
  el.dataset.value = value === null || value === undefined ? "" : String(value);
}

function when(ts) {  // yyyyMMddHHmmss -> HH:mm:ss
  return ts ? `${ts.slice(8, 10)}:${ts.slice(10, 12)}:${ts.slice(12, 14)}` : "";
}

function bar(id, labels, values, color, integers = true) {
  const data = { labels, datasets: [{ data: values, backgroundColor: color, borderRadius: 3 }] };
  if (charts[id]) {
    charts[id].data = data;
    charts[id].update("none");
    return;
  }
  charts[id] = new Chart($(id), {
    type: "bar", data,
    options: { animation: false, responsive: true, maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: integers ? { precision: 0 } : {} } } },
  });
}

function doughnut(id, labels, values) {
  const data = { labels, datasets: [{ data: values, backgroundColor: PALETTE }] };
  if (charts[id]) { charts[id].data = data; charts[id].update("none"); return; }
  charts[id] = new Chart($(id), { type: "doughnut", data,
    options: { animation: false, responsive: true, maintainAspectRatio: false,
      plugins: { legend: { position: "right" } } } });
}

function showError(panel, message) {
  const box = document.querySelector(`.error[data-panel="${panel}"]`);
  box.hidden = !message;
  box.textContent = message || "";
}

async function fetchJson(url) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch (err) {
    return { error: "the dashboard service (model-api) is not answering; start it with `pilot stack up`" };
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) return { error: body.message || body.detail || `${url} answered ${response.status}` };
  return { body };
}

function rows(tbodyId, items, render) {
  const tbody = $(tbodyId);
  tbody.replaceChildren(...items.map((item) => {
    const tr = document.createElement("tr");
    for (const cell of render(item)) {
      const td = document.createElement("td");
      td.textContent = cell;
      tr.appendChild(td);
    }
    if (item.car) tr.dataset.car = item.car;
    return tr;
  }));
  return tbody;
}

async function refreshLive() {
  const query = chosenDay ? `?date=${encodeURIComponent(chosenDay)}` : "";
  const { body, error } = await fetchJson(`/dashboard/api/live${query}`);
  const pill = $("live-state");
  if (error) {
    showError("live", error);
    pill.textContent = "live: down"; pill.className = "pill down";
    return;
  }
  showError("live", "");
  pill.textContent = `live · ${new Date().toLocaleTimeString("en-GB")}`; pill.className = "pill ok";
  $("live-day").textContent = body.day || "no alerts yet";
  $("live-day").dataset.value = body.day || "";
  setText("alerts-total", body.alerts);
  setText("alert-cars", body.alert_cars);
  setText("cars-reporting", body.cars.length);
  bar("chart-alerts", [...Array(24).keys()].map((h) => `${String(h).padStart(2, "0")}h`),
      body.alerts_per_hour, ORANGE);
  bar("chart-areas", Object.keys(body.cars_per_area), Object.values(body.cars_per_area), BLUE);
  const tbody = rows("recent-alerts", body.recent_alerts,
                     (a) => [a.car, `${when(a.start)} – ${when(a.end)}`]);
  [...tbody.children].forEach((tr, i) => {
    const key = `${body.recent_alerts[i].car}-${body.recent_alerts[i].start}`;
    tr.dataset.alert = key;
    if (seenAlerts.size && !seenAlerts.has(key)) tr.className = "fresh";
  });
  seenAlerts = new Set(body.recent_alerts.map((a) => `${a.car}-${a.start}`));
}

function empty(name, isEmpty) {
  document.querySelector(`[data-empty="${name}"]`).hidden = !isEmpty;
}

async function refreshDay() {
  const days = await fetchJson("/dashboard/api/days");
  if (days.error) { showError("day", days.error); return; }
  const select = $("day");
  const known = days.body.days;
  const offered = chosenDay && !known.includes(chosenDay) ? [...known, chosenDay].sort() : known;
  if (select.options.length !== offered.length) {
    select.replaceChildren(...offered.slice().reverse().map((d) => new Option(d, d)));
  }
  const day = chosenDay || known[known.length - 1];
  if (!day) { showError("day", "no marts exported yet: run the end-to-end DAG (`pilot demo`)"); return; }
  select.value = day;
  const { body, error } = await fetchJson(`/dashboard/api/day/${day}`);
  if (error) { showError("day", error); return; }
  showError("day", body.exported ? "" : `no marts exported for ${body.day} yet: the marts DAG exports a day `
                                        + "after its batch load (or run `pilot demo --date " + body.day + "`)");
  $("mart-day").textContent = body.day;
  $("mart-day").dataset.value = body.day;

  const speed = body.speed_per_area || [];
  empty("speed_per_area", !body.speed_per_area);
  bar("chart-speed", speed.map((a) => a.area), speed.map((a) => a.avg_speed), GREEN, false);

  const inspection = body.inspection || { cars: [], per_check: {} };
  empty("inspection", !body.inspection);
  bar("chart-checks", Object.keys(inspection.per_check), Object.values(inspection.per_check), ORANGE);
  setText("inspection-count", inspection.cars.length);
  rows("inspection", inspection.cars, (c) => [c.car, c.checks.join(", ")]);

  const symptoms = body.symptoms || { cars: 0, drivers: [], per_symptom: {} };
  empty("symptoms", !body.symptoms);
  bar("chart-symptoms", Object.keys(symptoms.per_symptom), Object.values(symptoms.per_symptom), BLUE);
  setText("symptom-count", symptoms.drivers.length);
  setText("symptom-cars", symptoms.cars);
  const fixed = (v) => (v === null || v === undefined ? "" : Number(v).toFixed(2));
  rows("symptoms", symptoms.drivers, (d) => [d.car, d.symptoms.join(", "), fixed(d.accelerator_z),
                                             fixed(d.brake_z), `${(100 * d.sharp_turn_share).toFixed(1)} %`]);

  const clusters = body.clusters || [];
  empty("clusters", !body.clusters);
  doughnut("chart-clusters", clusters.map((c) => `cluster ${c.cluster}`), clusters.map((c) => c.cars));
  $("cluster-profiles").replaceChildren(...clusters.map((c) => {
    const li = document.createElement("li");
    li.textContent = `cluster ${c.cluster} (${c.cars} cars): ${c.description || ""}`;
    return li;
  }));
  empty("recommendations", !body.recommendations);
  rows("recommendations", body.recommendations || [], (r) => [r.car, r.items.join(", ")]);
  document.body.dataset.dayLoaded = body.day;
}

$("day").addEventListener("change", (event) => {
  chosenDay = event.target.value;
  history.replaceState(null, "", `?date=${chosenDay}`);
  seenAlerts = new Set();
  refreshLive();
  refreshDay();
});

Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
Chart.defaults.color = GREY;
refreshLive();
refreshDay();
setInterval(refreshLive, LIVE_EVERY_MS);
setInterval(refreshDay, DAY_EVERY_MS);
