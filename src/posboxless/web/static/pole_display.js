"use strict";
// The customer pole display card of the diagnostics page: the two lines the customer reads, as
// the display was sent them (in demo mode: as the simulated display interpreted the bytes).
// Text only through textContent: the lines come from the POS.
(function () {
  const REFRESH_MS = 1000;
  const card = document.getElementById("pole-display");
  if (!card) return;

  function token() {
    return sessionStorage.getItem("posboxless-token") || "";
  }

  function render(device) {
    const lines = (device.details && (device.details.display_shows || device.details.lines)) || [];
    card.querySelectorAll(".pole-row").forEach((row, i) => {
      row.textContent = lines[i] === undefined ? "" : lines[i];
    });
    const state = card.querySelector(".pole-status");
    state.textContent = device.status;
    state.className = "pole-status " + device.status;
  }

  async function refresh() {
    try {
      const headers = token() ? { Authorization: "Bearer " + token() } : {};
      const r = await fetch("/api/diagnostics", { headers });
      if (r.ok) {
        const data = await r.json();
        const device = data.devices.find((d) => d.kind === "customer_display");
        if (device) render(device);
      }
    } catch (e) { /* the next refresh tries again */ }
    setTimeout(refresh, REFRESH_MS);
  }
  setTimeout(refresh, REFRESH_MS);
})();
