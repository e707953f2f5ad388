// fleetlift local console: follows GET api/events (Server-Sent Events: a snapshot, then every change)
// and draws placements, sessions, the queue, the sweeper and gamelift-sim. Plain JavaScript, no build
// step; charts by uPlot (vendor/).
"use strict";

(function () {
  const MAX_PLACEMENT_ROWS = 150;
  const MAX_SESSION_ROWS = 200;
  const CHART_SECONDS = 120;

  const state = {
    placements: new Map(), // placementId -> view
    sessions: new Map(), // session id -> view
    status: null,
    serverSkewMs: 0, // stack clock - browser clock
    flash: new Set(), // placement ids / session ids changed since the last draw
  };

  // ---------- small helpers ----------
  const $ = (id) => document.getElementById(id);
  function esc(v) {
    return String(v === undefined || v === null ? "" : v)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function fmtInt(n) { return (n || 0).toLocaleString("en-US"); }
  function fmtMs(ms) {
    if (ms === null || ms === undefined) return "";
    if (ms < 1000) return ms + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
    return (ms / 60000).toFixed(1) + " min";
  }
  function fmtTime(ms) {
    if (!ms) return "";
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, "0");
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }
  function nowMs() { return Date.now() + state.serverSkewMs; }
  function fmtAgo(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    return s < 1 ? "just now" : s < 120 ? s + " s ago" : Math.round(s / 60) + " min ago";
  }
  function shortId(id, keep) {
    if (!id) return "";
    keep = keep || 12;
    return id.length > keep + 2 ? id.slice(0, keep) + "…" : id;
  }
  function shortFleet(id) {
    if (!id) return "";
    const m = /^fleet-([0-9a-f]{8})/.exec(id);
    return m ? "fleet-" + m[1] : id;
  }
  function badge(status) {
    return '<span class="badge s-' + esc(status) + '">' + esc(status) + "</span>";
  }
  function chip(label, value, cls) {
    return '<span class="chip' + (cls ? " " + cls : "") + '">' + esc(label) + " <b>" + esc(value) + "</b></span>";
  }

  // ---------- live feed ----------
  let source = null;
  function setConn(s, text) {
    const el = $("conn");
    el.dataset.state = s;
    el.textContent = text || s;
  }
  function connect() {
    if (source) source.close();
    setConn("connecting", "connecting…");
    source = new EventSource("api/events");
    source.onopen = () => setConn("live");
    source.onerror = () => setConn("reconnecting", "reconnecting…");
    source.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      handle(msg);
    };
  }

  function placementNewer(old, p) {
    if (!old) return true;
    const oldDone = old.status !== "PENDING";
    const newDone = p.status !== "PENDING";
    if (oldDone && !newDone) return false; // a placement never goes back to PENDING
    if (oldDone === newDone && old.updatedMs > p.updatedMs) return false;
    return true;
  }
  function sessionNewer(old, s) { return !old || (s.version || 0) >= (old.version || 0); }

  function upsertPlacement(p) {
    const old = state.placements.get(p.placementId);
    if (!placementNewer(old, p)) return;
    if (!old || old.status !== p.status) state.flash.add("p:" + p.placementId);
    state.placements.set(p.placementId, p);
  }
  function upsertSession(s) {
    const old = state.sessions.get(s.id);
    if (!sessionNewer(old, s)) return;
    if (!old || old.playerCount !== s.playerCount || old.status !== s.status || old.openSlots !== s.openSlots) {
      state.flash.add("s:" + s.id);
    }
    state.sessions.set(s.id, s);
  }

  function handle(msg) {
    switch (msg.type) {
      case "snapshot":
        state.placements.clear();
        state.sessions.clear();
        (msg.placements || []).forEach(upsertPlacement);
        (msg.sessions || []).forEach(upsertSession);
        state.flash.clear();
        setStatus(msg.status);
        break;
      case "placement": upsertPlacement(msg.placement); break;
      case "session": upsertSession(msg.session); break;
      case "session-removed": state.sessions.delete(msg.id); break;
      case "status": setStatus(msg); break;
      case "resync": connect(); return;
      default: return;
    }
    schedule();
  }
  function setStatus(s) {
    if (!s) return;
    state.status = s;
    if (s.nowMs) state.serverSkewMs = s.nowMs - Date.now();
  }

  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  }

  // ---------- drawing ----------
  function draw() {
    drawPlacements();
    drawSessions();
    if (state.status) {
      drawHeader(state.status);
      drawCards(state.status);
      drawQueue(state.status);
      drawSweeper(state.status);
      drawSim(state.status);
    }
    drawCharts();
    state.flash.clear();
  }

  function drawHeader(s) {
    const comps = s.components || {};
    $("components").innerHTML = Object.keys(comps).map((k) =>
      '<span class="' + esc(comps[k]) + '" title="' + esc(k + ": " + comps[k]) + '">' + esc(k) + "</span>").join("");
    const off = (s.clock && s.clock.offsetMs) || 0;
    $("clock").innerHTML = "stack time <b>" + esc(fmtTime(nowMs())) + "</b>" +
      (off > 0 ? ' <span class="offset">(+' + esc(fmtMs(off)) + " ahead)</span>" : "");
    const u = s.urls || {};
    $("endpoints").textContent = "HTTP " + (u.http || "") + " · WebSocket " + (u.ws || "") +
      " · GameLift " + (u.gamelift || "") + " · DynamoDB " + (u.dynamodb || "");
  }

  function drawCards(s) {
    const t = s.placements || {};
    $("placements-started").textContent = fmtInt(t.started);
    $("placements-breakdown").innerHTML =
      "pending <b>" + fmtInt(t.pending) + "</b> · fulfilled <b>" + fmtInt(t.fulfilled) + "</b><br>" +
      "failed <b>" + fmtInt(t.failed) + "</b> · timed out <b>" + fmtInt(t.timedOut) + "</b> · cancelled <b>" + fmtInt(t.cancelled) + "</b>";

    const regions = s.regions || [];
    const sum = (k) => regions.reduce((a, r) => a + (r[k] || 0), 0);
    $("sessions-active").textContent = fmtInt(sum("sessions"));
    $("sessions-breakdown").innerHTML = "players <b>" + fmtInt(sum("players")) + "</b> · open slots <b>" +
      fmtInt(sum("openSlots")) + "</b><br>regions <b>" + regions.length + "</b>";

    const q = (s.queue && s.queue.stats) || {};
    $("queue-inflight").textContent = fmtInt(q.inFlight);
    $("queue-breakdown").innerHTML = "in flight · waiting <b>" + fmtInt(q.visible) + "</b><br>DLQ <b>" +
      fmtInt(q.deadLettered) + "</b> · quarantined <b>" + fmtInt(q.quarantined) + "</b>";

    const sim = s.sim;
    if (sim) {
      $("sim-active").textContent = fmtInt(sim.activeGameSessions);
      const st = sim.stats || {};
      $("sim-breakdown").innerHTML = "game sessions · throttled <b>" + fmtInt(st.throttled) +
        "</b><br>faults injected <b>" + fmtInt(st.faultsInjected) + "</b> · events dropped <b>" + fmtInt(st.eventsDropped) + "</b>";
    } else {
      $("sim-active").textContent = "–";
      $("sim-breakdown").textContent = "external GameLift";
    }

    const runs = (s.sweeper && s.sweeper.runs) || [];
    const last = runs[runs.length - 1];
    if (last) {
      $("sweeper-last").textContent = fmtAgo(nowMs() - last.startedMs);
      const sm = last.summary || {};
      $("sweeper-breakdown").innerHTML = last.error
        ? '<span class="s-FAILED">' + esc(last.error) + "</span>"
        : "resolved <b>" + fmtInt(sm.resolved) + "</b> · seats expired <b>" + fmtInt(sm.expiredSeats) +
          "</b><br>every <b>" + esc(fmtMs(s.sweeper.intervalMs)) + "</b>";
    } else {
      $("sweeper-last").textContent = "–";
      $("sweeper-breakdown").innerHTML = "no run yet · every <b>" + esc(fmtMs((s.sweeper || {}).intervalMs)) + "</b>";
    }
  }

  function drawPlacements() {
    const all = Array.from(state.placements.values());
    all.sort((a, b) => b.createdMs - a.createdMs || (a.placementId < b.placementId ? 1 : -1));
    const rows = all.slice(0, MAX_PLACEMENT_ROWS).map((p) => {
      const done = p.status !== "PENDING";
      const status = done ? badge("PENDING") + '<span class="arrow">→</span>' + badge(p.status) : badge("PENDING");
      const players = p.players || [];
      const who = players.length ? esc(shortId(players[0], 16)) + (players.length > 1 ? " +" + (players.length - 1) : "") : "";
      const tail = p.sessionId
        ? "<code>" + esc(p.sessionId) + "</code>"
        : p.reason ? '<span class="s-' + esc(p.status) + '">' + esc(p.reason) + "</span>" : "";
      const cls = state.flash.has("p:" + p.placementId) ? ' class="flash"' : "";
      return "<tr" + cls + ' data-placement-id="' + esc(p.placementId) + '" data-status="' + esc(p.status) + '">' +
        "<td>" + esc(fmtTime(p.createdMs)) + "</td>" +
        '<td title="' + esc(p.placementId) + '"><code>' + esc(shortId(p.placementId, 18)) + "</code></td>" +
        '<td title="' + esc(p.requester) + '">' + esc(shortId(p.requester, 28)) + "</td>" +
        '<td title="' + esc(players.join(", ")) + '">' + who + "</td>" +
        '<td class="status">' + status + "</td>" +
        '<td class="num">' + esc(fmtMs(p.timeToResultMs)) + "</td>" +
        '<td class="tail">' + tail + "</td></tr>";
    });
    document.querySelector("#placements tbody").innerHTML = rows.join("");
    $("placements-note").textContent = all.length > MAX_PLACEMENT_ROWS
      ? "latest " + MAX_PLACEMENT_ROWS + " of " + all.length + " on show"
      : all.length + " on show";
  }

  function drawSessions() {
    const all = Array.from(state.sessions.values());
    all.sort((a, b) => (a.status === "ACTIVE" ? 0 : 1) - (b.status === "ACTIVE" ? 0 : 1) ||
      (b.createdMs || 0) - (a.createdMs || 0));
    const rows = all.slice(0, MAX_SESSION_ROWS).map((s) => {
      const joinable = s.joinable === null || s.joinable === undefined
        ? '<span class="muted" title="derived: ACTIVE with an open slot (the table has no joinable field)">' +
          (s.status === "ACTIVE" && s.openSlots > 0 ? "yes" : "no") + "</span>"
        : (s.joinable ? "yes" : '<span class="s-FAILED">locked</span>');
      const cls = [s.status !== "ACTIVE" ? "ended" : "", state.flash.has("s:" + s.id) ? "flash" : ""].join(" ").trim();
      return "<tr" + (cls ? ' class="' + cls + '"' : "") + ' data-session-id="' + esc(s.id) + '">' +
        "<td>" + esc(fmtTime(s.createdMs)) + "</td>" +
        '<td title="' + esc(s.arn) + '"><code>' + esc(s.id) + "</code></td>" +
        '<td class="name">' + esc(s.name) + "</td>" +
        "<td>" + esc(s.region) + "</td>" +
        '<td title="' + esc(s.fleetId) + '">' + esc(shortFleet(s.fleetId)) + "</td>" +
        '<td class="num players">' + esc(s.playerCount) + " / " + esc(s.maxPlayers) + "</td>" +
        '<td class="num">' + esc(s.openSlots) + (s.reservedSeats ? ' <span class="muted" title="seats reserved by joins">(' + esc(s.reservedSeats) + " held)</span>" : "") + "</td>" +
        "<td>" + joinable + "</td>" +
        "<td>" + badge(s.status) + "</td></tr>";
    });
    document.querySelector("#sessions tbody").innerHTML = rows.join("");
    const s = state.status;
    const regions = (s && s.regions) || [];
    $("regions").innerHTML = regions.map((r) =>
      '<span class="chip" data-region="' + esc(r.region) + '"><b>' + esc(r.region) + "</b> " + fmtInt(r.sessions) +
      " sessions · " + fmtInt(r.players) + " players · " + fmtInt(r.openSlots) + " open slots</span>").join("") ||
      '<span class="muted">no active session</span>';
    const hidden = (s && s.sessionsNotListed) || 0;
    $("sessions-note").textContent = all.length + " on show" + (hidden ? " (" + hidden + " more not listed)" : "");
  }

  function envelopeSummary(body) {
    try {
      const env = JSON.parse(body);
      const ev = env.Message ? JSON.parse(env.Message) : env;
      const d = ev.detail || {};
      return [d.type, d.placementId].filter(Boolean).join(" · ");
    } catch (e) {
      return "";
    }
  }
  function drawMessages(id, list, extra) {
    const el = $(id);
    el.querySelector(".n").textContent = list.length;
    el.querySelector(".msgs").innerHTML = list.map((m) =>
      '<div class="msg"><code>' + esc(m.messageId) + "</code> " + esc(extra(m)) +
      ' <span class="muted">' + esc(envelopeSummary(m.body)) + "</span><pre>" + esc(m.body) + "</pre></div>").join("") ||
      '<div class="muted">empty</div>';
  }
  function drawQueue(s) {
    const q = s.queue || {};
    const st = q.stats || {};
    $("queue-counters").innerHTML = chip("enqueued", fmtInt(st.enqueued)) + chip("batches", fmtInt(st.batches)) +
      chip("deleted", fmtInt(st.deleted)) + chip("retried", fmtInt(st.failures), st.failures ? "warn" : "") +
      chip("waiting", fmtInt(st.visible)) + chip("in flight", fmtInt(st.inFlight)) +
      chip("DLQ", fmtInt(st.deadLettered), st.deadLettered ? "bad" : "") +
      chip("quarantined", fmtInt(st.quarantined), st.quarantined ? "bad" : "");
    drawMessages("queue-waiting", q.messages || [], (m) => (m.inFlight ? "in flight" : "waiting") + ", received " + m.receiveCount + "×");
    drawMessages("queue-dlq", q.dlq || [], (m) => "received " + m.receiveCount + "×");
    drawMessages("queue-quarantined", q.quarantined || [], () => "");
    const str = s.stream || {};
    $("stream-counters").innerHTML = '<span class="muted">table stream → notifier:</span>' +
      chip("records", fmtInt(str.records)) + chip("to notifier", fmtInt(str.delivered)) +
      chip("retries", fmtInt(str.retries), str.retries ? "warn" : "") + chip("dropped", fmtInt(str.dropped), str.dropped ? "bad" : "");
  }

  function drawSweeper(s) {
    const sw = s.sweeper || {};
    const runs = (sw.runs || []).slice().reverse();
    document.querySelector("#sweeps tbody").innerHTML = runs.map((r) => {
      const m = r.summary || {};
      const note = r.error ? '<span class="s-FAILED">' + esc(r.error) + "</span>" : m.stoppedEarly ? "stopped early" : "";
      return "<tr><td>" + esc(fmtTime(r.startedMs)) + '</td><td class="num">' + esc(fmtMs(r.durationMs)) +
        '</td><td class="num">' + esc(m.resolved || 0) + '</td><td class="num">' + esc(m.stillPending || 0) +
        '</td><td class="num">' + esc(m.expiredSeats || 0) + '</td><td class="num">' + esc(m.endedSessions || 0) +
        '</td><td class="num">' + esc(m.correctedCounts || 0) + '</td><td class="num">' + esc(m.gameliftCalls || 0) + "</td><td>" + note + "</td></tr>";
    }).join("") || '<tr><td colspan="9" class="muted">no run yet</td></tr>';
    const last = (sw.runs || [])[(sw.runs || []).length - 1];
    const next = last ? Math.round((last.startedMs + sw.intervalMs - nowMs()) / 1000) : null;
    $("sweeper-note").textContent = "every " + fmtMs(sw.intervalMs) +
      (next === null ? "" : next >= 1 ? " · next in about " + next + " s" : " · next run due");
  }

  // The faults each button stands for, read from and written as gamelift-sim's faults object.
  const FAULTS = {
    throttle: {
      on: (f) => !!(f.operations && f.operations.StartGameSessionPlacement &&
        f.operations.StartGameSessionPlacement.errorCode === "ThrottlingException" &&
        f.operations.StartGameSessionPlacement.errorRate > 0),
      set: (f, rate) => {
        f.operations = f.operations || {};
        if (rate > 0) f.operations.StartGameSessionPlacement = { errorRate: rate, errorCode: "ThrottlingException", latencyMs: 0 };
        else delete f.operations.StartGameSessionPlacement;
      },
    },
    fail: {
      on: (f) => f.events.placementFailureRate > 0,
      set: (f, rate) => { f.events.placementFailureRate = rate; },
    },
    drop: {
      on: (f) => f.events.dropRate > 0,
      set: (f, rate) => { f.events.dropRate = rate; },
    },
    delay: {
      on: (f) => f.events.delayRate > 0,
      set: (f, rate) => { f.events.delayRate = rate; f.events.delayMs = rate > 0 ? 5000 : 0; },
    },
    duplicate: {
      on: (f) => f.events.duplicateRate > 0,
      set: (f, rate) => { f.events.duplicateRate = rate; },
    },
  };
  function currentFaults() {
    const sim = state.status && state.status.sim;
    const f = JSON.parse(JSON.stringify((sim && sim.faults) || {}));
    f.operations = f.operations || {};
    f.events = Object.assign({ dropRate: 0, duplicateRate: 0, delayRate: 0, delayMs: 0, placementFailureRate: 0 }, f.events || {});
    return f;
  }
  function describeFaults(f) {
    const out = [];
    Object.keys(f.operations || {}).forEach((op) => {
      const o = f.operations[op];
      if (o.errorRate > 0) out.push(op + ": " + Math.round(o.errorRate * 100) + " % " + (o.errorCode || "InternalServiceException"));
      if (o.latencyMs > 0) out.push(op + ": +" + o.latencyMs + " ms");
    });
    const e = f.events || {};
    if (e.placementFailureRate > 0) out.push("placements fail " + Math.round(e.placementFailureRate * 100) + " %");
    if (e.dropRate > 0) out.push("events dropped " + Math.round(e.dropRate * 100) + " %");
    if (e.delayRate > 0) out.push("events delayed " + Math.round(e.delayRate * 100) + " % by " + fmtMs(e.delayMs));
    if (e.duplicateRate > 0) out.push("events duplicated " + Math.round(e.duplicateRate * 100) + " %");
    return out;
  }

  function drawSim(s) {
    const sim = s.sim;
    const panel = $("sim-panel");
    panel.classList.toggle("external", !sim);
    if (!sim) {
      $("sim-note").textContent = "not in use: the stack talks to an external GameLift";
      document.querySelectorAll("#sim-panel button, #sim-panel select, #sim-panel input").forEach((b) => { b.disabled = true; });
      return;
    }
    $("sim-note").textContent = (s.urls && s.urls.gamelift) || "";
    const rows = [];
    sim.fleets.forEach((f) => {
      f.locations.forEach((l, i) => {
        const pct = l.slots ? Math.round((l.used / l.slots) * 100) : 0;
        rows.push('<tr data-fleet-id="' + esc(f.id) + '" data-location="' + esc(l.location) + '">' +
          '<td title="' + esc(f.id) + '">' + (i === 0 ? esc(shortFleet(f.id)) : "") + "</td><td>" + (i === 0 ? esc(f.region) : "") +
          "</td><td>" + esc(l.location) + '</td><td class="num">' + esc(l.slots) + '</td><td class="num">' + esc(l.used) +
          '</td><td class="num free">' + esc(l.free) + '</td><td><div class="bar" title="' + pct + ' % used"><i style="width:' + pct + '%"></i></div></td></tr>');
      });
    });
    document.querySelector("#fleets tbody").innerHTML = rows.join("");
    $("sim-queues").innerHTML = sim.queues.map((q) => "queue <b>" + esc(q.name) + "</b> (" + esc(q.region) + ", times out after " +
      esc(q.timeoutSeconds) + " s) → " + q.destinations.map((d) => esc(shortFleet(d))).join(", ")).join("<br>") +
      "<br>placement delay " + esc(fmtMs(sim.placementDelayMs));
    const st = sim.stats || {};
    $("sim-stats").innerHTML = chip("started", fmtInt(st.placementsStarted)) + chip("fulfilled", fmtInt(st.placementsFulfilled)) +
      chip("failed", fmtInt(st.placementsFailed), st.placementsFailed ? "bad" : "") + chip("timed out", fmtInt(st.placementsTimedOut)) +
      chip("cancelled", fmtInt(st.placementsCancelled)) + chip("events", fmtInt(st.eventsPublished)) +
      chip("dropped", fmtInt(st.eventsDropped), st.eventsDropped ? "warn" : "") + chip("delayed", fmtInt(st.eventsDelayed)) +
      chip("duplicated", fmtInt(st.eventsDuplicated)) + chip("throttled", fmtInt(st.throttled), st.throttled ? "warn" : "") +
      chip("faults injected", fmtInt(st.faultsInjected), st.faultsInjected ? "bad" : "");
    const f = currentFaults();
    document.querySelectorAll("button[data-fault]").forEach((b) => {
      b.setAttribute("aria-pressed", FAULTS[b.dataset.fault].on(f) ? "true" : "false");
    });
    const active = describeFaults(f);
    $("faults-active").innerHTML = active.length
      ? active.map((a) => '<span class="chip bad">' + esc(a) + "</span>").join("")
      : '<span class="muted">no fault injected</span>';
    const t = $("sim-throttling");
    if (document.activeElement !== t) t.checked = !!sim.throttling;
  }

  // ---------- charts ----------
  let rateChart = null;
  let ttfChart = null;
  function chartWidth(id) { return Math.max(280, $(id).clientWidth || 500); }
  function makeCharts() {
    const axes = [
      { stroke: "#8593a3", grid: { stroke: "#222b35" }, ticks: { stroke: "#222b35" } },
      { stroke: "#8593a3", grid: { stroke: "#222b35" }, ticks: { stroke: "#222b35" } },
    ];
    rateChart = new uPlot({
      width: chartWidth("chart-rate"), height: 170, axes: axes,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(2, Math.ceil((max || 0) * 1.15))] } },
      series: [
        {},
        { label: "started", stroke: "#5aa9ff", width: 1.5 },
        { label: "fulfilled", stroke: "#3ecf8e", width: 1.5 },
        { label: "not fulfilled", stroke: "#ff6b6b", width: 1.5 },
      ],
    }, [[], [], [], []], $("chart-rate"));
    ttfChart = new uPlot({
      width: chartWidth("chart-ttf"), height: 170, axes: axes,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(100, Math.ceil((max || 0) * 1.15))] } },
      series: [
        {},
        { label: "mean ms", stroke: "#3ecf8e", width: 1.5, spanGaps: false, points: { show: true, size: 4 } },
        { label: "worst ms", stroke: "#f5b942", width: 1, dash: [4, 3], spanGaps: false, points: { show: true, size: 3 } },
      ],
    }, [[], [], []], $("chart-ttf"));
    window.addEventListener("resize", () => {
      rateChart.setSize({ width: chartWidth("chart-rate"), height: 170 });
      ttfChart.setSize({ width: chartWidth("chart-ttf"), height: 170 });
    });
  }

  function drawCharts() {
    if (!rateChart) return;
    const end = Math.floor(nowMs() / 1000);
    const start = end - CHART_SECONDS + 1;
    const xs = [];
    for (let t = start; t <= end; t++) xs.push(t);
    const started = xs.map(() => 0);
    const fulfilled = xs.map(() => 0);
    const other = xs.map(() => 0);
    const ttfSum = xs.map(() => 0);
    const ttfN = xs.map(() => 0);
    const ttfMax = xs.map(() => null);
    state.placements.forEach((p) => {
      const c = Math.floor(p.createdMs / 1000) - start;
      if (c >= 0 && c < xs.length) started[c]++;
      if (p.status === "PENDING") return;
      const f = Math.floor(p.updatedMs / 1000) - start;
      if (f < 0 || f >= xs.length) return;
      if (p.status === "FULFILLED") {
        fulfilled[f]++;
        const ms = p.timeToResultMs || 0;
        ttfSum[f] += ms;
        ttfN[f]++;
        ttfMax[f] = ttfMax[f] === null ? ms : Math.max(ttfMax[f], ms);
      } else {
        other[f]++;
      }
    });
    const mean = ttfSum.map((s, i) => (ttfN[i] ? Math.round(s / ttfN[i]) : null));
    rateChart.setData([xs, started, fulfilled, other]);
    ttfChart.setData([xs, mean, ttfMax]);
  }

  // ---------- actions ----------
  async function post(path, body) {
    const res = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    let answer = {};
    try { answer = await res.json(); } catch (e) { answer = {}; }
    if (!res.ok) {
      const msg = (answer.error && answer.error.message) || ("HTTP " + res.status);
      $("action-result").textContent = "refused: " + msg;
      return null;
    }
    return answer;
  }
  async function setFaults(f, what) {
    const answer = await post("api/sim/faults", f);
    if (answer) {
      $("action-result").textContent = what;
      if (state.status && state.status.sim) state.status.sim.faults = answer.faults;
      schedule();
    }
  }
  function wire() {
    document.querySelectorAll("button[data-fault]").forEach((b) => {
      b.addEventListener("click", () => {
        const kind = FAULTS[b.dataset.fault];
        const f = currentFaults();
        const on = kind.on(f);
        const rate = on ? 0 : Number($("fault-rate").value);
        kind.set(f, rate);
        setFaults(f, b.textContent + (on ? ": off" : ": on at " + Math.round(rate * 100) + " %"));
      });
    });
    $("faults-clear").addEventListener("click", () => setFaults({ operations: {}, events: {} }, "faults cleared"));
    $("sim-throttling").addEventListener("change", async (e) => {
      const answer = await post("api/sim/throttling", { enabled: e.target.checked });
      if (answer) $("action-result").textContent = "rate limits " + (answer.throttling ? "on" : "off");
    });
    document.querySelectorAll("button[data-ms]").forEach((b) => {
      b.addEventListener("click", async () => {
        const answer = await post("api/clock/advance", { ms: Number(b.dataset.ms) });
        if (answer) $("action-result").textContent = "clock is " + fmtMs(answer.offsetMs) + " ahead";
      });
    });
  }

  // The header clock and the charts move even when nothing happens.
  setInterval(() => { if (state.status) schedule(); }, 1000);

  makeCharts();
  wire();
  connect();
})();
