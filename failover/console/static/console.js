// The hags failover console's page script. Plain JavaScript, no build
// step: it follows the cluster through the server-sent events of
// /api/events and acts through POST /api/action with the console's token
// in the X-Hags-Token header (docs/console.md). Names from the cluster are
// only ever put in the page as text, never as markup.
"use strict";

(function () {
  const TOKEN_KEY = "hags-console-token";
  const MAX_RESULTS = 50;
  const state = { nodes: new Map() /* by id */, groups: new Map(), resources: new Map(), timeline: [] };
  const moveTarget = new Map(); // group name → the node chosen in its select
  let token = "";
  let canAct = false;

  // The token comes once in the URL (as hagsrm console prints it); it is
  // kept for this tab only and taken out of the address bar.
  function takeToken() {
    const url = new URL(window.location.href);
    const t = url.searchParams.get("token");
    if (t) {
      sessionStorage.setItem(TOKEN_KEY, t);
      url.searchParams.delete("token");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("data-")) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  function short(name) {
    for (const p of ["ClusterGroupState", "ClusterGroup", "ClusterResourceState", "ClusterResource", "ClusterNodeState", "ClusterNode"]) {
      if (name.startsWith(p)) return name.slice(p.length);
    }
    return name;
  }

  function stateClass(s) {
    const n = short(s);
    if (n === "Online" || n === "Up") return "s-good";
    if (n.endsWith("Pending") || n === "Joining" || n === "PartialOnline") return "s-pending";
    if (n === "Failed" || n === "Down" || n === "Unknown") return "s-bad";
    return "s-off";
  }

  function stateCell(s) {
    return el("td", { class: "state " + stateClass(s), title: s }, short(s));
  }

  function button(label, op, fields) {
    const b = el("button", { type: "button", "data-op": op }, label);
    b.addEventListener("click", () => act(op, fields(), label));
    return b;
  }

  function byName(m, key) {
    return [...m.values()].sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0));
  }

  function renderNodes() {
    const body = document.querySelector("#nodes tbody");
    const rows = [];
    const owned = new Map();
    for (const g of state.groups.values()) {
      if (!owned.has(g.owner)) owned.set(g.owner, []);
      owned.get(g.owner).push(g.group);
    }
    for (const n of [...state.nodes.values()].sort((a, b) => a.id - b.id)) {
      const groups = (owned.get(n.node) || []).sort().join(", ") || "-";
      rows.push(el("tr", { "data-node": n.node },
        el("td", {}, n.node), el("td", {}, n.id), stateCell(n.state), el("td", { class: "groups" }, groups),
        el("td", { class: "act" },
          button("Pause", "pause-node", () => ({ node: n.node })),
          button("Resume", "resume-node", () => ({ node: n.node })))));
    }
    body.replaceChildren(...rows);
  }

  function renderGroups() {
    const body = document.querySelector("#groups tbody");
    const rows = [];
    for (const g of byName(state.groups, "group")) {
      const sel = el("select", { class: "move-target", title: "where to move the group" },
        el("option", { value: "" }, "(cluster picks)"));
      for (const n of [...state.nodes.values()].sort((a, b) => a.id - b.id)) {
        sel.append(el("option", { value: n.node }, n.node));
      }
      sel.value = moveTarget.get(g.group) || "";
      sel.addEventListener("change", () => moveTarget.set(g.group, sel.value));
      const owner = g.moving_to ? g.owner + " → " + g.moving_to : g.owner || "-";
      rows.push(el("tr", { "data-group": g.group },
        el("td", {}, g.group), stateCell(g.state), el("td", { class: "owner" }, owner),
        el("td", {}, g.persistent_state), el("td", {}, g.sequence),
        el("td", { class: "act" },
          button("Online", "online-group", () => ({ group: g.group })),
          button("Offline", "offline-group", () => ({ group: g.group })),
          sel,
          button("Move", "move-group", () => (sel.value ? { group: g.group, node: sel.value } : { group: g.group })))));
    }
    body.replaceChildren(...rows);
  }

  function renderResources() {
    const body = document.querySelector("#resources tbody");
    const rows = [];
    for (const r of byName(state.resources, "resource")) {
      rows.push(el("tr", { "data-resource": r.resource },
        el("td", {}, r.resource), el("td", {}, r.group), stateCell(r.state), el("td", { class: "owner" }, r.owner || "-"),
        el("td", {}, r.persistent_state), el("td", {}, r.agent + (r.locked ? " (locked)" : "")),
        el("td", { class: "act" },
          button("Online", "online-resource", () => ({ resource: r.resource })),
          button("Offline", "offline-resource", () => ({ resource: r.resource })),
          button("Cleanup", "cleanup-resource", () => ({ resource: r.resource })))));
    }
    body.replaceChildren(...rows);
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour12: false });
  }

  function entryLine(e) {
    let text = clock(e.time) + "  " + e.kind + " " + e.name + ": ";
    text += e.was ? short(e.was) + " → " + short(e.state) : short(e.state);
    if (e.was_owner !== undefined) text += ", owner " + (e.was_owner || "-") + " → " + (e.owner || "-");
    else if (e.owner) text += " on " + e.owner;
    if (e.moving_to) text += ", moving to " + e.moving_to;
    if (e.deleted) text += " (deleted)";
    return el("li", { class: stateClass(e.state) }, text);
  }

  function renderTimeline() {
    const list = document.getElementById("timeline");
    list.replaceChildren(...state.timeline.slice().reverse().map(entryLine));
  }

  function renderAll() {
    renderNodes();
    renderGroups();
    renderResources();
    renderTimeline();
  }

  function flash(selector) {
    const row = document.querySelector(selector);
    if (row) row.classList.add("flash");
  }

  function cssName(s) {
    return s.replace(/["\\]/g, "\\$&");
  }

  function onState(ev) {
    const d = JSON.parse(ev.data);
    state.nodes = new Map(d.nodes.map((n) => [n.id, n])); // by number: a name may come later
    state.groups = new Map(d.groups.map((g) => [g.group, g]));
    state.resources = new Map(d.resources.map((r) => [r.resource, r]));
    state.timeline = d.timeline;
    renderAll();
  }

  function onChange(ev) {
    const d = JSON.parse(ev.data);
    let sel = "";
    if (d.node) {
      d.deleted ? state.nodes.delete(d.node.id) : state.nodes.set(d.node.id, d.node);
      sel = 'tr[data-node="' + cssName(d.node.node) + '"]';
    } else if (d.group) {
      d.deleted ? state.groups.delete(d.group.group) : state.groups.set(d.group.group, d.group);
      sel = 'tr[data-group="' + cssName(d.group.group) + '"]';
    } else if (d.resource) {
      d.deleted ? state.resources.delete(d.resource.resource) : state.resources.set(d.resource.resource, d.resource);
      sel = 'tr[data-resource="' + cssName(d.resource.resource) + '"]';
    }
    state.timeline.push(d.entry);
    const cut = Date.now() - 3600 * 1000;
    while (state.timeline.length && state.timeline[0].time < cut) state.timeline.shift();
    renderAll();
    flash(sel);
  }

  function codeClass(name) {
    if (name === "ERROR_SUCCESS") return "code-ok";
    if (name === "ERROR_IO_PENDING") return "code-pending";
    return "code-bad";
  }

  function showResult(what, res) {
    const list = document.getElementById("results");
    const li = el("li", { class: "result" }, clock(Date.now()) + "  " + what + ": ");
    if (res.name) {
      li.setAttribute("data-code", String(res.code));
      li.setAttribute("data-name", res.name);
      li.append(el("span", { class: "code " + codeClass(res.name) }, res.name + " (" + res.code + ")"));
    } else {
      li.setAttribute("data-name", "");
      li.append(el("span", { class: "code code-bad" }, "no code"));
    }
    if (res.message) li.append(" " + res.message);
    list.prepend(li);
    while (list.children.length > MAX_RESULTS) list.lastChild.remove();
  }

  function describe(op, body) {
    return op + " " + (body.group || body.resource || body.node || "") + (op === "move-group" && body.group ? " → " + (body.node || "(cluster picks)") : "");
  }

  async function act(op, fields, label) {
    const body = Object.assign({ op: op }, fields);
    const what = describe(op, body);
    try {
      const resp = await fetch("api/action", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Hags-Token": token },
        body: JSON.stringify(body),
        cache: "no-store",
      });
      const d = await resp.json();
      showResult(what, d.result || d.error || { message: "HTTP " + resp.status });
    } catch (err) {
      showResult(what, { message: "no answer: " + err });
    }
  }

  function setLink(text, cls) {
    const b = document.getElementById("link");
    b.textContent = text;
    b.className = "badge " + cls;
  }

  async function start() {
    token = takeToken();
    let session = { access: "none" };
    try {
      const resp = await fetch("api/session", { headers: token ? { "X-Hags-Token": token } : {}, cache: "no-store" });
      session = await resp.json();
    } catch (err) {
      setLink("unreachable", "down");
      return;
    }
    canAct = session.access === "all";
    document.body.classList.toggle("read-only", !canAct);
    document.getElementById("node").textContent = session.node ? "served by " + session.node : "";
    document.getElementById("access").textContent = canAct ? "operator" : "read-only";
    const notice = document.getElementById("notice");
    if (session.bad_token) {
      sessionStorage.removeItem(TOKEN_KEY);
      notice.textContent = "The token in this URL is not this console's (hagsrmd restarted?). Run hagsrm console for a new URL.";
      notice.hidden = false;
    } else if (!canAct && session.access === "read") {
      notice.textContent = "Read-only: open the URL that hagsrm console prints to act on the cluster.";
      notice.hidden = false;
    }
    if (session.access === "none") {
      notice.textContent = "This console needs its token to be read: open the URL that hagsrm console prints.";
      notice.hidden = false;
      setLink("no access", "down");
      return;
    }
    const src = new EventSource("api/events" + (canAct ? "?token=" + encodeURIComponent(token) : ""));
    src.addEventListener("state", onState);
    src.addEventListener("change", onChange);
    src.onopen = () => setLink("live", "live");
    src.onerror = () => setLink("reconnecting", "down");
  }

  document.addEventListener("DOMContentLoaded", start);
})();
