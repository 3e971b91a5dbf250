// bta's web page: plain JS over the Transmission RPC at /transmission/rpc, no framework and no build step.
// Every text that comes from a torrent, a peer or a tracker goes into the DOM through textContent (the helper el()
// and setText()), never as markup; the page's Content-Security-Policy allows no inline script besides.
"use strict";

const RPC = "/transmission/rpc";
const POLL_MS = 1500;
const CHART_SAMPLES = 200; // 200 samples of 1.5 s: the last five minutes
const LIST_FIELDS = [
  "id", "name", "hashString", "totalSize", "sizeWhenDone", "leftUntilDone", "percentDone", "status", "error",
  "errorString", "isFinished", "metadataPercentComplete", "recheckProgress", "rateDownload", "rateUpload",
  "peersConnected", "uploadRatio", "eta", "queuePosition", "downloadDir", "addedDate",
];
const DETAIL_FIELDS = ["id", "files", "fileStats", "peers", "trackerStats"];

const state = {
  sessionId: "",
  torrents: new Map(), // id -> the last torrent-get object
  rows: new Map(), // id -> its <li>
  selected: null, // id of the torrent whose details are open
  tab: "files",
  filter: "all",
  sort: "queue",
  descending: false,
  samples: [], // {down, up}
  downloadDir: "",
  polling: false,
};

const $ = (id) => document.getElementById(id);

// ---- the RPC: the CSRF handshake (409 carries the id to send back), one retry with the new id ----

async function rpc(method, args) {
  const body = JSON.stringify(args === undefined ? { method } : { method, arguments: args });
  for (let attempt = 0; attempt < 3; attempt++) {
    const response = await fetch(RPC, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Transmission-Session-Id": state.sessionId },
      body,
      credentials: "same-origin",
      cache: "no-store",
    });
    if (response.status === 409) {
      state.sessionId = response.headers.get("X-Transmission-Session-Id") || "";
      continue;
    }
    if (!response.ok) {
      throw new Error(`${method}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
    }
    const reply = await response.json();
    if (reply.result !== "success") {
      throw new Error(`${method}: ${reply.result}`);
    }
    return reply.arguments || {};
  }
  throw new Error(`${method}: the RPC kept asking for a new session id`);
}

// ---- formatting (Transmission's units: kB = 1000 bytes) ----

function bytes(n) {
  if (!(n > 0)) return "0 B";
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${units[i]}`;
}

const rate = (n) => `${bytes(n)}/s`;

function duration(seconds) {
  if (seconds < 0) return seconds === -2 ? "unknown" : "";
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24;
  const m = Math.floor(seconds / 60) % 60, s = Math.floor(seconds % 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

function ratio(r) {
  if (r === -2) return "\u221e";
  if (r < 0) return "\u2013";
  return r.toFixed(2);
}

function when(unix) {
  if (!unix) return "never";
  const delta = Math.round(unix - Date.now() / 1000);
  return delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
}

const percent = (fraction) => `${Math.floor(fraction * 1000) / 10}%`;

// The state of a torrent as the page names it (Transmission's status 0-6, plus metadata, finished and error).
function stateOf(t) {
  if (t.error) return { key: "error", text: `Error: ${t.errorString}` };
  switch (t.status) {
    case 0: return t.isFinished ? { key: "finished", text: "Finished" } : { key: "paused", text: "Paused" };
    case 1: return { key: "queued", text: "Queued to check" };
    case 2: return { key: "checking", text: `Checking ${percent(t.recheckProgress)}` };
    case 3: return { key: "queued", text: "Queued" };
    case 4: return t.metadataPercentComplete < 1
      ? { key: "metadata", text: `Fetching metadata ${percent(t.metadataPercentComplete)}` }
      : { key: "downloading", text: "Downloading" };
    case 5: return { key: "queued", text: "Queued to seed" };
    case 6: return { key: "seeding", text: "Seeding" };
    default: return { key: "unknown", text: `Status ${t.status}` };
  }
}

function matchesFilter(t) {
  const key = stateOf(t).key;
  switch (state.filter) {
    case "all": return true;
    case "downloading": return key === "downloading" || key === "metadata";
    case "paused": return key === "paused" || key === "finished";
    default: return key === state.filter;
  }
}

const SORT_KEYS = {
  queue: (t) => t.queuePosition * 1e6 + t.id,
  name: (t) => t.name.toLocaleLowerCase(),
  size: (t) => t.sizeWhenDone,
  progress: (t) => t.percentDone,
  state: (t) => stateOf(t).key,
  down: (t) => t.rateDownload,
  up: (t) => t.rateUpload,
  ratio: (t) => t.uploadRatio,
  eta: (t) => (t.eta < 0 ? Number.MAX_SAFE_INTEGER : t.eta),
};

function compare(a, b) {
  const key = SORT_KEYS[state.sort] || SORT_KEYS.queue;
  const x = key(a), y = key(b);
  const order = x < y ? -1 : x > y ? 1 : a.id - b.id;
  return state.descending ? -order : order;
}

// ---- DOM helpers: text only ----

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function showMessage(text, ok) {
  const message = $("message");
  message.textContent = text;
  message.classList.toggle("ok", !!ok);
  message.hidden = !text;
}

// ---- the torrent list ----

function newRow(id) {
  const li = el("li", "torrent");
  li.tabIndex = 0;
  li.dataset.id = String(id);
  const progress = el("span", "progress");
  const meter = el("span", "meter");
  meter.append(el("span"));
  progress.append(meter, el("span", "percent"));
  li.append(el("span", "name"), el("span", "num size"), progress, el("span", "state"), el("span", "num down"),
    el("span", "num up"), el("span", "num peers"), el("span", "num ratio"), el("span", "num eta"));
  li.addEventListener("click", () => select(id));
  li.addEventListener("keydown", (e) => { if (e.key === "Enter") select(id); });
  return li;
}

function updateRow(li, t) {
  const s = stateOf(t);
  li.dataset.state = s.key;
  li.dataset.percent = String(t.percentDone);
  li.classList.toggle("selected", state.selected === t.id);
  const q = (c) => li.querySelector(c);
  setText(q(".name"), t.name);
  setText(q(".size"), t.totalSize > 0 ? bytes(t.sizeWhenDone) : "");
  q(".meter > span").style.width = `${Math.min(100, t.percentDone * 100)}%`;
  setText(q(".percent"), percent(t.percentDone));
  const stateNode = q(".state");
  setText(stateNode, s.text);
  stateNode.classList.toggle("error", s.key === "error");
  setText(q(".down"), t.rateDownload > 0 ? `\u2193 ${rate(t.rateDownload)}` : "");
  setText(q(".up"), t.rateUpload > 0 ? `\u2191 ${rate(t.rateUpload)}` : "");
  setText(q(".peers"), String(t.peersConnected));
  q(".peers").title = "connected peers";
  setText(q(".ratio"), ratio(t.uploadRatio));
  setText(q(".eta"), duration(t.eta));
}

function renderList() {
  const list = $("torrents");
  const shown = [...state.torrents.values()].filter(matchesFilter).sort(compare);
  for (const [id, li] of state.rows) {
    if (!state.torrents.has(id)) { li.remove(); state.rows.delete(id); }
  }
  shown.forEach((t, index) => {
    let li = state.rows.get(t.id);
    if (!li) { li = newRow(t.id); state.rows.set(t.id, li); }
    updateRow(li, t);
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
  });
  while (list.children.length > shown.length) list.lastElementChild.remove();
  $("empty").hidden = state.torrents.size > 0;
}

// ---- the details of one torrent ----

function select(id) {
  state.selected = id;
  $("d-confirm").hidden = true;
  $("details").hidden = false;
  for (const [rowId, li] of state.rows) li.classList.toggle("selected", rowId === id);
  renderDetailsHead();
  refreshDetails().catch(reportError);
}

function closeDetails() {
  state.selected = null;
  $("details").hidden = true;
  for (const li of state.rows.values()) li.classList.remove("selected");
}

function renderDetailsHead() {
  const t = state.torrents.get(state.selected);
  if (!t) return;
  const s = stateOf(t);
  setText($("d-name"), t.name);
  setText($("d-summary"), `${s.text} \u00b7 ${percent(t.percentDone)} of ${bytes(t.sizeWhenDone)} \u00b7 in ${t.downloadDir} \u00b7 ${t.hashString}`);
  $("d-summary").classList.toggle("error", s.key === "error");
  setText($("d-toggle"), t.status === 0 ? "Resume" : "Pause");
}

// Rebuilds a table body from rows of cells, keeping rows that exist (so a checkbox being clicked is not replaced).
function fillTable(tbody, items, build, update) {
  while (tbody.children.length > items.length) tbody.lastElementChild.remove();
  items.forEach((item, i) => {
    let tr = tbody.children[i];
    if (!tr) { tr = build(i); tbody.append(tr); }
    update(tr, item, i);
  });
}

function cells(tr, values) {
  values.forEach((v, i) => setText(tr.children[i], v));
}

function renderFiles(detail) {
  const stats = detail.fileStats || [];
  fillTable($("d-files"), detail.files || [], (i) => {
    const tr = el("tr");
    const box = el("input");
    box.type = "checkbox";
    box.dataset.index = String(i);
    box.setAttribute("aria-label", "download this file");
    box.addEventListener("change", () => setWanted(i, box.checked));
    const get = el("td");
    get.append(box);
    tr.append(get, el("td", "path"), el("td", "num"), el("td", "num"));
    return tr;
  }, (tr, f, i) => {
    const box = tr.querySelector("input");
    const wanted = stats[i] ? stats[i].wanted : true;
    if (document.activeElement !== box && box.checked !== wanted) box.checked = wanted;
    tr.dataset.wanted = String(wanted);
    setText(tr.children[1], f.name);
    setText(tr.children[2], bytes(f.length));
    setText(tr.children[3], f.length > 0 ? percent(f.bytesCompleted / f.length) : "100%");
  });
}

function renderPeers(detail) {
  fillTable($("d-peers"), detail.peers || [], () => {
    const tr = el("tr");
    tr.append(el("td"), el("td"), el("td", "num"), el("td", "num"), el("td", "num"), el("td"));
    return tr;
  }, (tr, p) => cells(tr, [
    p.address.includes(":") ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`, p.clientName,
    rate(p.rateToClient), rate(p.rateToPeer), percent(p.progress), p.flagStr,
  ]));
}

function renderTrackers(detail) {
  fillTable($("d-trackers"), detail.trackerStats || [], () => {
    const tr = el("tr");
    tr.append(el("td", "path"), el("td"), el("td"), el("td", "num"), el("td"));
    return tr;
  }, (tr, k) => cells(tr, [
    k.announce,
    !k.hasAnnounced ? "not announced yet" : (k.lastAnnounceSucceeded ? "ok" : "failed") + (k.lastAnnounceResult ? `: ${k.lastAnnounceResult}` : ""),
    when(k.lastAnnounceTime), k.hasAnnounced ? String(k.lastAnnouncePeerCount) : "", when(k.nextAnnounceTime),
  ]));
}

async function refreshDetails() {
  const id = state.selected;
  if (id === null) return;
  const reply = await rpc("torrent-get", { ids: [id], fields: DETAIL_FIELDS });
  const detail = (reply.torrents || [])[0];
  if (state.selected !== id) return;
  if (!detail) { closeDetails(); return; }
  renderDetailsHead();
  renderFiles(detail);
  renderPeers(detail);
  renderTrackers(detail);
}

async function setWanted(index, wanted) {
  const id = state.selected;
  try {
    await rpc("torrent-set", { ids: [id], [wanted ? "files-wanted" : "files-unwanted"]: [index] });
    await refreshDetails();
  } catch (e) { reportError(e); }
}

async function act(method, extra) {
  const id = state.selected;
  if (id === null) return;
  try {
    await rpc(method, Object.assign({ ids: [id] }, extra || {}));
    await poll();
  } catch (e) { reportError(e); }
}

// ---- adding ----

async function fileToBase64(file) {
  const data = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function addOptions() {
  const options = { paused: $("add-paused").checked };
  const dir = $("add-dir").value.trim();
  if (dir) options["download-dir"] = dir;
  return options;
}

async function addOne(args, what) {
  const reply = await rpc("torrent-add", Object.assign(addOptions(), args));
  const added = reply["torrent-added"] || reply["torrent-duplicate"];
  return `${reply["torrent-duplicate"] ? "Already there" : "Added"}: ${added ? added.name : what}`;
}

async function addFiles(files) {
  const done = [];
  for (const file of files) {
    try {
      done.push(await addOne({ metainfo: await fileToBase64(file) }, file.name));
    } catch (e) {
      done.push(`${file.name}: ${e.message}`);
      showMessage(done.join("; "), false);
      return false;
    }
  }
  showMessage(done.join("; "), true);
  await poll();
  return true;
}

async function submitAdd(event) {
  event.preventDefault();
  const files = [...$("add-file").files];
  const magnet = $("add-magnet").value.trim();
  if (files.length === 0 && !magnet) {
    showMessage("Choose a .torrent file or paste a magnet link.", false);
    return;
  }
  let ok = true;
  if (files.length > 0) ok = await addFiles(files);
  if (ok && magnet) {
    try {
      showMessage(await addOne({ filename: magnet }, magnet), true);
      await poll();
    } catch (e) { showMessage(e.message, false); ok = false; }
  }
  if (ok) {
    $("add-form").reset();
    $("add-dir").value = state.downloadDir;
    $("add").hidden = true;
  }
}

function openAdd() {
  $("add").hidden = false;
  if (!$("add-dir").value) $("add-dir").value = state.downloadDir;
  $("add-magnet").focus();
}

// Drag and drop: a file dragged over the page shows the drop zone; dropped .torrent files are added at once with
// the add form's folder and paused choice.
function wireDrop() {
  let depth = 0;
  const zone = $("drop");
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  document.addEventListener("dragenter", (e) => { if (hasFiles(e)) { depth++; zone.hidden = false; e.preventDefault(); } });
  document.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; zone.hidden = true; } });
  document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  document.addEventListener("drop", (e) => {
    depth = 0;
    zone.hidden = true;
    if (!hasFiles(e)) return;
    e.preventDefault();
    addFiles([...e.dataTransfer.files]).catch(reportError);
  });
}

// ---- the rate chart and the session totals ----

function cssColour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function drawChart() {
  const canvas = $("chart");
  const ratioPx = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratioPx));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratioPx));
  if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, width, height);
  const peak = Math.max(1000, ...state.samples.map((s) => Math.max(s.down, s.up)));
  const x = (i) => width - (state.samples.length - 1 - i) * (width / (CHART_SAMPLES - 1));
  const y = (v) => height - 4 * ratioPx - (v / peak) * (height - 20 * ratioPx);
  for (const [key, colour] of [["down", cssColour("--down")], ["up", cssColour("--up")]]) {
    g.strokeStyle = colour;
    g.lineWidth = 2 * ratioPx;
    g.beginPath();
    state.samples.forEach((s, i) => (i === 0 ? g.moveTo(x(i), y(s[key])) : g.lineTo(x(i), y(s[key]))));
    g.stroke();
  }
  g.fillStyle = cssColour("--muted");
  g.font = `${11 * ratioPx}px system-ui, sans-serif`;
  g.fillText(`peak ${rate(peak)} \u00b7 last ${Math.round((CHART_SAMPLES * POLL_MS) / 60000)} min`, 6 * ratioPx, 13 * ratioPx);
}

function renderStats(s) {
  state.samples.push({ down: s.downloadSpeed, up: s.uploadSpeed });
  if (state.samples.length > CHART_SAMPLES) state.samples.shift();
  setText($("s-down"), rate(s.downloadSpeed));
  setText($("s-up"), rate(s.uploadSpeed));
  const current = s["current-stats"] || {};
  setText($("s-downloaded"), bytes(current.downloadedBytes));
  setText($("s-uploaded"), bytes(current.uploadedBytes));
  setText($("s-count"), String(s.torrentCount));
  setText($("s-active"), String(s.activeTorrentCount));
  drawChart();
}

// ---- polling ----

function reportError(e) {
  showMessage(e && e.message ? e.message : String(e), false);
}

async function poll() {
  const [list, stats] = await Promise.all([rpc("torrent-get", { fields: LIST_FIELDS }), rpc("session-stats")]);
  state.torrents = new Map((list.torrents || []).map((t) => [t.id, t]));
  renderList();
  renderStats(stats);
  if (state.selected !== null) {
    if (state.torrents.has(state.selected)) await refreshDetails();
    else closeDetails();
  }
  document.body.dataset.polled = String((Number(document.body.dataset.polled) || 0) + 1);
}

async function loop() {
  try {
    await poll();
    if ($("message").textContent.startsWith("Lost contact")) showMessage("", false);
  } catch (e) {
    showMessage(`Lost contact with bta: ${e.message}`, false);
  }
  setTimeout(loop, POLL_MS);
}

function wire() {
  $("add-open").addEventListener("click", openAdd);
  $("add-cancel").addEventListener("click", () => { $("add").hidden = true; });
  $("add-form").addEventListener("submit", (e) => { submitAdd(e).catch(reportError); });
  $("filter").addEventListener("change", (e) => { state.filter = e.target.value; renderList(); });
  $("sort").addEventListener("change", (e) => { state.sort = e.target.value; renderList(); });
  $("sort-dir").addEventListener("click", (e) => {
    state.descending = !state.descending;
    e.target.textContent = state.descending ? "\u2191" : "\u2193";
    renderList();
  });
  $("d-close").addEventListener("click", closeDetails);
  $("d-toggle").addEventListener("click", () => {
    const t = state.torrents.get(state.selected);
    if (t) act(t.status === 0 ? "torrent-start" : "torrent-stop");
  });
  $("d-verify").addEventListener("click", () => act("torrent-verify"));
  $("d-remove").addEventListener("click", () => { $("d-confirm").hidden = false; });
  $("d-remove-cancel").addEventListener("click", () => { $("d-confirm").hidden = true; });
  $("d-remove-keep").addEventListener("click", () => act("torrent-remove", { "delete-local-data": false }));
  $("d-remove-data").addEventListener("click", () => act("torrent-remove", { "delete-local-data": true }));
  for (const button of document.querySelectorAll(".tabs button")) {
    button.addEventListener("click", () => {
      state.tab = button.dataset.tab;
      for (const b of document.querySelectorAll(".tabs button")) b.setAttribute("aria-selected", String(b === button));
      for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== `tab-${state.tab}`;
    });
  }
  window.addEventListener("resize", drawChart);
  wireDrop();
}

async function start() {
  wire();
  try {
    const session = await rpc("session-get");
    state.downloadDir = session["download-dir"] || "";
    $("add-dir").value = state.downloadDir;
    document.title = `bta \u00b7 ${session.version || ""}`.trim();
  } catch (e) { reportError(e); }
  loop();
}

document.addEventListener("DOMContentLoaded", start);
