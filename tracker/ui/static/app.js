// RepTrack live page: draws the sensor cards the server sends (tracker/ui/web.py, sensor_card).
// Text only goes in with textContent: nothing from the broker is ever parsed as HTML.
"use strict";

const cards = new Map();  // sensor id -> card element
const STATUS_MARK = {done: "\u2713", active: "\u25B6", pending: "\u00B7", missed: "\u2717"};

function fmt(value, digits, unit) {
  return value === null || value === undefined ? "-" : value.toFixed(digits) + unit;
}

function setText(root, selector, text) {
  const el = root.querySelector(selector);
  if (el.textContent !== text) el.textContent = text;
}

function cardFor(sensor) {
  let el = cards.get(sensor);
  if (!el) {
    el = document.getElementById("card").content.firstElementChild.cloneNode(true);
    el.dataset.sensor = sensor;
    const list = document.getElementById("sensors");
    const after = [...cards.keys()].filter((s) => s > sensor).sort()[0];
    list.insertBefore(el, after ? cards.get(after) : null);
    cards.set(sensor, el);
    document.getElementById("waiting").hidden = true;
  }
  return el;
}

function drawPlan(el, plan) {
  const list = el.querySelector(".plan");
  list.hidden = !plan;
  if (!plan) return;
  list.replaceChildren(...plan.sets.map((s) => {
    const li = document.createElement("li");
    li.className = s.status;
    const reps = s.status === "pending" ? s.target : `${s.reps}/${s.target}`;
    li.textContent = `${STATUS_MARK[s.status] || ""} ${s.number}. ${s.title} ${reps}`;
    return li;
  }));
  const extra = [];
  if (plan.off_plan.length) extra.push("off plan: " + plan.off_plan.join(", "));
  if (plan.untracked.length) extra.push("then: " + plan.untracked.join(", ") + " (not counted)");
  setText(el, ".extra", extra.join(" \u2014 "));
}

function draw(card) {
  const el = cardFor(card.sensor);
  el.classList.toggle("offline", !card.online);
  el.dataset.phase = card.phase || "";
  setText(el, ".sensor", card.sensor);
  const loss = card.online && card.packet_loss >= 0.005 ? ` \u00B7 ${(100 * card.packet_loss).toFixed(1)}% lost` : "";
  setText(el, ".status", card.status + loss);
  setText(el, ".battery", card.battery_pct === null || card.battery_pct === undefined ? "" : `battery ${card.battery_pct.toFixed(0)}%`);
  const exercise = card.exercise ? card.exercise + (card.leg ? ` \u00B7 ${card.leg}` : "") : "no set yet";
  setText(el, ".exercise", exercise);
  setText(el, ".set", card.set_label || "");
  setText(el, ".count", String(card.reps));
  setText(el, ".target", card.target ? `/${card.target}` : "");
  setText(el, ".announce", card.plan ? card.plan.announcement : `${card.total_reps} reps in this session`);
  const rep = card.last_rep;
  setText(el, ".depth", rep ? fmt(rep.depth_deg, 0, "\u00B0") : "-");
  setText(el, ".tempo", rep ? `${fmt(rep.descent_s, 1, "")}\u00B7${fmt(rep.bottom_s, 1, "")}\u00B7${fmt(rep.ascent_s, 1, " s")}` : "-");
  const wob = card.wobble;
  setText(el, ".wobble", wob ? fmt(wob.level_deg, 1, "\u00B0") : "-");
  const fill = el.querySelector(".fill");
  fill.style.width = wob ? `${Math.round(100 * wob.fraction)}%` : "0%";
  fill.className = "fill " + (!wob ? "" : wob.fraction < 0.4 ? "ok" : wob.fraction < 0.7 ? "warn" : "bad");
  setText(el, ".losses", String(card.balance_losses));
  drawPlan(el, card.plan);
}

function banner(text) {
  const el = document.getElementById("banner");
  el.hidden = !text;
  el.textContent = text || "";
}

function connect() {
  const source = new EventSource("/events");
  source.addEventListener("update", (message) => {
    const update = JSON.parse(message.data);
    banner(update.broker === "connected" ? "" : "MQTT broker unreachable \u2014 reconnecting\u2026");
    update.sensors.forEach(draw);
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  });
  source.onerror = () => banner("Lost the RepTrack server \u2014 retrying\u2026");
  source.onopen = () => banner("");
}

connect();
