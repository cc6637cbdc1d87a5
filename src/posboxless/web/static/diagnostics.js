"use strict";
// The diagnostics page: renders /api/diagnostics and sends actions. Plain DOM, no libraries,
// text only through textContent (device messages and barcodes are untrusted).
(function () {
  const REFRESH_MS = 2000;
  let data = JSON.parse(document.getElementById("initial").textContent);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") node.addEventListener("click", v);
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  function when(t) {
    return t ? new Date(t * 1000).toLocaleString() : "–";
  }
  function ago(t) {
    if (!t) return "never";
    const s = Math.max(0, Math.round(data.now - t));
    return s < 120 ? s + " s ago" : s < 7200 ? Math.round(s / 60) + " min ago" : when(t);
  }
  function replace(id, ...children) {
    const box = document.getElementById(id);
    box.replaceChildren(...children.flat());
  }
  function token() {
    return sessionStorage.getItem("posboxless-token") || "";
  }
  function notice(text, ok) {
    const box = document.getElementById("notice");
    box.textContent = text;
    box.className = ok ? "ok" : "bad";
  }

  async function act(action, body) {
    const headers = { "Content-Type": "application/json" };
    if (token()) headers["Authorization"] = "Bearer " + token();
    try {
      const r = await fetch("/api/" + action, { method: "POST", headers, body: JSON.stringify(body) });
      const answer = await r.json();
      notice(r.ok ? answer.message : answer.error, r.ok);
    } catch (e) {
      notice("The proxy did not answer: " + e, false);
    }
    refresh();
  }

  function details(d) {
    const dl = el("dl", {});
    for (const [k, v] of Object.entries(d || {})) {
      if (v === null || v === undefined || k === "status") continue;
      let text = typeof v === "object" ? JSON.stringify(v) : String(v);
      if (/(^last_|_since$|_at$|^updated$)/.test(k) && typeof v === "number") text = when(v) + " (" + ago(v) + ")";
      dl.append(el("dt", {}, k), el("dd", {}, text));
    }
    return el("details", {}, el("summary", {}, "details"), dl);
  }

  function renderDevices() {
    replace("devices", el("table", {},
      el("tr", {}, el("th", {}, "device"), el("th", {}, "status"), el("th", {}, "messages"), el("th", {}, "last activity")),
      data.devices.map((d) => el("tr", { "data-device": d.kind + ":" + d.name },
        el("td", {}, d.kind + " ", el("b", {}, d.name)),
        el("td", { class: d.status }, d.status),
        el("td", {}, d.messages.map((m) => el("div", {}, m)), details(d.details)),
        el("td", {}, ago(d.details && (d.details.last_ok || d.details.last_status_poll || d.details.updated)))))));
  }

  function renderScale() {
    const s = data.scale;
    if (!s) return replace("scale", el("p", {}, "No scale configured."));
    const device = data.devices.find((d) => d.kind === "scale");
    if (device && device.status !== "connected") {
      // Never a weight from a scale that does not answer: the last one would be a lie.
      return replace("scale", el("div", { class: "noscale", id: "weight" }, "no scale"),
        el("div", { class: "sub" }, device.status + ": " + device.messages.join(" ")));
    }
    const info = Array.isArray(s.info) ? s.info.join(", ") : s.info;
    replace("scale", el("div", { class: "weight", id: "weight" },
      s.weight === null || s.weight === undefined ? "–" : Number(s.weight).toFixed(3) + " " + (s.unit || "kg")),
      el("div", { class: "sub" }, "status: " + info + (s.stable === false ? " (moving)" : "")));
  }

  function renderBarcodes() {
    if (!data.barcodes.length) return replace("barcodes", el("p", {}, "No barcode scanned yet."));
    replace("barcodes", el("table", {},
      data.barcodes.map((b) => el("tr", {}, el("td", {}, el("code", {}, b.barcode || b.code || JSON.stringify(b))),
        el("td", { class: "sub" }, b.source || ""), el("td", { class: "sub" }, ago(b.time || b.at))))));
  }

  function renderPrinters() {
    const allowed = data.actions.allowed;
    replace("printers", data.printers.length ? data.printers.map((p) => el("div", { class: "card", "data-printer": p.name },
      el("h3", {}, p.name + (p.default ? " (default) " : " "), el("span", { class: p.status }, p.status)),
      p.epos ? el("div", { class: "epos" }, "ePOS printer address for Odoo: " + p.epos.http + " (http Odoo)" +
        (p.epos.https ? ", " + p.epos.https + " (https Odoo)" : "")) : null,
      el("div", {},
        el("button", { id: "test-print-" + p.name, onclick: () => act("test_print", { printer: p.name }) }, "Test print"),
        el("button", { id: "drawer-" + p.name, onclick: () => act("drawer_test", { printer: p.name }) }, "Open cash drawer")),
      typeof p.journal === "string" ? el("p", {}, p.journal) : el("table", { class: "journal" },
        el("tr", {}, ["job", "kind", "state", "received", "attempts", "error", ""].map((h) => el("th", {}, h))),
        p.journal.map((j) => el("tr", { "data-job": j.id },
          el("td", {}, j.id + (j.reprint_of ? " (reprint of " + j.reprint_of + ")" : "")),
          el("td", { class: "kind" }, j.kind + (j.source ? " (" + j.source + ")" : "")), el("td", { class: "state" }, j.state + (j.interrupted ? ", interrupted" : "")),
          el("td", {}, when(j.created)), el("td", {}, j.attempts), el("td", {}, j.error || ""),
          el("td", {}, j.kind === "drawer" ? "" : el("button", { class: "reprint",
            onclick: () => act("reprint", { printer: p.name, job_id: j.id }) }, "Reprint"))))))) :
      el("p", {}, "No printer configured."));
    document.querySelectorAll("#printers button, .action-form button").forEach((b) => { b.disabled = !allowed; });
    const box = document.getElementById("token-box");
    box.style.display = allowed ? "none" : "block";
    document.getElementById("token-reason").textContent = data.actions.reason;
  }

  function renderAlerts() {
    replace("warnings", data.alerts.map((a) => el("div", { class: "alert " + a.level, role: "alert" },
      el("b", {}, a.title), a.fix ? el("span", { class: "fix" }, a.fix) : null)));
  }

  function renderReceipt() {
    const r = data.simulated_receipts;
    if (!r) return replace("receipt-box");
    const box = document.getElementById("receipt-box");
    if (box.getAttribute("data-shown") === String(r.last_png) + r.last_time) return;
    box.setAttribute("data-shown", String(r.last_png) + r.last_time);
    replace("receipt-box", el("h3", {}, "Last simulated receipt"),
      el("p", { class: "sub" }, "Receipts are saved as PNG and text in ", el("code", {}, r.folder)),
      r.last_png ? el("img", { id: "last-receipt", alt: "last receipt " + r.last_png,
        src: "/api/last_receipt.png?t=" + encodeURIComponent(r.last_time) }) :
        el("p", {}, "No receipt printed yet: press Test print."));
  }

  // Payment terminals: last transactions (amounts, outcomes, masked cards only); an unknown
  // outcome is settled from the terminal's ticket; a simulated terminal takes its next outcome.
  const OUTCOMES = ["accept", "refuse", "not_verified", "silent", "nak", "no_answer", "garbage", "lose_line"];
  function renderTerminals() {
    const allowed = data.actions.allowed;
    const terminals = data.devices.filter((d) => d.kind === "payment_terminal");
    replace("terminals", terminals.length ? terminals.map((d) => {
      const t = d.details || {};
      const rows = (t.transactions || []).map((x) => el("tr", { "data-transaction": x.transaction_id },
        el("td", {}, when(x.created)), el("td", {}, x.amount), el("td", {}, x.mode),
        el("td", { class: "state" }, x.outcome || x.phase), el("td", {}, x.card || ""),
        el("td", {}, x.details || ""),
        el("td", {}, x.outcome === "unknown" ? [
          el("button", { class: "settle-paid", onclick: () =>
            act("terminal_resolve", { terminal: d.name, transaction_id: x.transaction_id, outcome: "accepted" }) },
            "Ticket says paid"),
          el("button", { class: "settle-unpaid", onclick: () =>
            act("terminal_resolve", { terminal: d.name, transaction_id: x.transaction_id, outcome: "refused" }) },
            "Not paid")] : "")));
      // Buttons, not a select: the refresh every two seconds would close an open select.
      const sim = t.simulated ? el("div", {}, "Next payment: ", OUTCOMES.map((o) =>
        el("button", { class: "next-outcome" + (o === t.next_outcome ? " chosen" : ""), "data-outcome": o,
          onclick: () => act("terminal_next_outcome", { terminal: d.name, outcome: o }) },
          o.replace("_", " ")))) : null;
      return el("div", { class: "card", "data-terminal": d.name },
        el("h3", {}, d.name + " ", el("span", { class: d.status }, d.status)), sim,
        rows.length ? el("table", { class: "journal" },
          el("tr", {}, ["time", "amount", "mode", "outcome", "card", "details", ""].map((h) => el("th", {}, h))),
          rows) : el("p", {}, "No payment yet."));
    }) : el("p", {}, "No payment terminal configured."));
    document.querySelectorAll("#terminals button").forEach((b) => { b.disabled = !allowed; });
  }

  function renderRest() {
    renderAlerts(); renderReceipt();
    replace("clients", data.clients.length ? el("table", {},
      el("tr", {}, el("th", {}, "POS (origin)"), el("th", {}, "address"), el("th", {}, "last call"), el("th", {}, "calls"), el("th", {}, "seen")),
      data.clients.map((c) => el("tr", {}, el("td", {}, c.origin), el("td", {}, c.address), el("td", {}, c.last_path),
        el("td", {}, c.calls), el("td", {}, ago(c.last_seen))))) : el("p", {}, "No POS has called yet."));
    document.getElementById("logs").textContent = data.logs.join("\n") || "(no log lines yet)";
    document.getElementById("uptime").textContent = "running since " + when(data.started);
  }

  function render() {
    renderDevices(); renderScale(); renderBarcodes(); renderPrinters(); renderTerminals(); renderRest();
    document.body.setAttribute("data-rendered", String(data.now));
  }

  async function refresh() {
    try {
      const headers = token() ? { Authorization: "Bearer " + token() } : {};
      const r = await fetch("/api/diagnostics", { headers });
      if (r.ok) { data = await r.json(); render(); }
    } catch (e) { /* the next refresh tries again */ }
  }

  document.getElementById("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem("posboxless-token", document.getElementById("token").value);
    refresh();
  });
  function onSubmit(id, handler) {
    const form = document.getElementById(id);
    if (form) form.addEventListener("submit", (e) => { e.preventDefault(); handler(); });
  }
  onSubmit("weight-form", () => act("simulate_weight", {
    weight: Number(document.getElementById("weight-input").value),
    moving: document.getElementById("weight-moving").checked }));
  onSubmit("barcode-form", () => {
    const input = document.getElementById("barcode-input");
    act("inject_barcode", { code: input.value });
    input.value = "";
  });
  render();
  setInterval(refresh, REFRESH_MS);
})();
