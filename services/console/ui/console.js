// The orderbus console page: it renders each snapshot the server pushes
// over server-sent events (/v1/stream). No framework, no build step.
"use strict";

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}

function time(t) {
  if (!t) return "";
  const d = new Date(t);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

// UUIDv7 ids share their leading (time) digits: show the end.
function short(id) { return id ? "…" + id.slice(-12) : ""; }

function stepCell(name, s) {
  if (!s) return el("td", { class: "step waiting " + name, "data-step": name, "data-result": "" }, "…");
  return el("td", { class: "step " + s.result + " " + name, "data-step": name, "data-result": s.result,
    title: s.at }, s.result + " " + time(s.at));
}

function fill(table, rows) {
  const body = $(table + " tbody");
  body.replaceChildren(...rows);
}

function render(snap) {
  $("#updated").textContent = "updated " + time(snap.time);
  const errs = $("#errors");
  errs.hidden = snap.errors.length === 0;
  errs.textContent = snap.errors.join("; ");

  fill("#orders", snap.orders.map((o) => el("tr", { "data-order": o.order_id },
    el("td", { title: o.order_id }, el("code", {}, short(o.order_id))),
    el("td", { class: "num" }, String(o.items)),
    stepCell("placed", o.placed), stepCell("receipt", o.receipt), stepCell("sms", o.sms),
    stepCell("stock", o.stock), stepCell("outcome", o.outcome),
    el("td", { class: "status " + o.status }, o.status))));

  fill("#consumers", snap.consumers.map((c) => el("tr",
    { "data-consumer": c.name, "data-stream": c.stream, class: c.paused || c.pending > 0 && c.waiting === 0 ? "alert" : "" },
    el("td", {}, c.stream), el("td", {}, c.name),
    el("td", { class: "num pending" }, String(c.pending)),
    el("td", { class: "num ack-pending" }, String(c.ack_pending)),
    el("td", { class: "num redelivered" }, String(c.redelivered)),
    el("td", { class: "num waiting" }, String(c.waiting)),
    el("td", { class: "paused" }, c.paused ? "paused" : ""))));

  const num = (v) => (v === undefined || v === null ? "" : String(v));
  const secs = (v) => (v === undefined || v === null ? "" : v.toFixed(1) + " s");
  fill("#services", snap.services.map((s) => el("tr", { "data-service": s.name, class: s.up ? "" : "alert" },
    el("td", {}, s.name), el("td", { title: s.error || "" }, s.up ? "up" : "down"),
    el("td", { class: "num outbox" }, num(s.outbox_pending)),
    el("td", { class: "num" }, secs(s.outbox_oldest_seconds)),
    el("td", { class: "num" }, num(s.erasures_open)))));

  $("#dlq-count").textContent = "(" + snap.dead_letter_count + " in the DLQ)";
  fill("#dead-letters", snap.dead_letters.map((d) => el("tr", { "data-seq": String(d.seq) },
    el("td", { class: "num" }, String(d.seq)), el("td", {}, time(d.time)),
    el("td", {}, d.consumer), el("td", {}, d.reason), el("td", { class: "error" }, d.error),
    el("td", {}, d.type), el("td", {}, el("code", { title: d.order_id || "" }, short(d.order_id))),
    el("td", {}, el("button", { onclick: () => redrive(d.seq) }, "redrive")))));

  fill("#erasures", snap.erasures.map((x) => el("tr", { "data-erasure": x.erasure_id },
    el("td", {}, el("code", { title: x.erasure_id }, short(x.erasure_id))), el("td", {}, time(x.requested_at)),
    el("td", {}, x.answered.join(", ")), el("td", {}, (x.waiting || []).join(", ")))));
}

async function redrive(seq) {
  const out = $("#redrive-result");
  out.textContent = "redriving " + seq + "…";
  const token = $("#token").value;
  sessionStorage.setItem("orderbus-operator-token", token);
  const resp = await fetch("/v1/dead-letters/" + seq + "/redrive", {
    method: "POST", headers: { Authorization: "Bearer " + token } });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) out.textContent = "redrive " + seq + ": " + (body.detail || body.error || resp.status);
  else if (body.dead_lettered_again) out.textContent = "dead letter " + seq + " redriven; " + body.consumer +
    " failed on it again: it is dead letter " + body.dead_lettered_again + " now";
  else out.textContent = "dead letter " + seq + " redriven and acknowledged by " + body.consumer;
}

function connect() {
  const conn = $("#conn");
  const es = new EventSource("/v1/stream");
  es.addEventListener("snapshot", (e) => {
    conn.textContent = "live";
    conn.className = "conn live";
    render(JSON.parse(e.data));
  });
  es.onerror = () => {
    conn.textContent = "reconnecting…";
    conn.className = "conn down";
  };
}

document.addEventListener("DOMContentLoaded", () => {
  $("#token").value = sessionStorage.getItem("orderbus-operator-token") || "";
  connect();
});
