// fleetcap's web page: sign in with a token, then list, create, stop and
// delete the packet captures of one subscription and region through the
// REST API of the same origin (api/openapi.json). No framework, no build
// step; every value from the API is put in the page as text, never as HTML.
"use strict";

const POLL_MS = 1000;
const session = { token: "", subscription: "", region: "" };
let timer = null;

const $ = (id) => document.getElementById(id);

function base() {
  return `/subscriptions/${encodeURIComponent(session.subscription)}` +
    `/regions/${encodeURIComponent(session.region)}/packetCaptures`;
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  return { status: res.status, json };
}

function message(r) {
  return r.json && r.json.error ? r.json.error.message : `HTTP ${r.status}`;
}

// ------------------------------------------------------------- sign in

async function signIn(event) {
  event.preventDefault();
  session.token = $("token").value.trim();
  session.subscription = $("subscription").value.trim();
  session.region = $("region").value.trim();
  const r = await api("GET", base());
  if (r.status !== 200) {
    $("signin-error").textContent = message(r);
    return;
  }
  sessionStorage.setItem("fleetcap", JSON.stringify(session));
  show();
}

function show() {
  $("signin-error").textContent = "";
  $("signin").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  $("who").textContent = `${session.subscription} / ${session.region}`;
  $("scope").textContent = `${session.subscription} / ${session.region}`;
  $("hosts-scope").textContent = `${session.subscription} / ${session.region}`;
  refresh();
  timer = setInterval(refresh, POLL_MS);
}

function signOut() {
  clearInterval(timer);
  sessionStorage.removeItem("fleetcap");
  session.token = "";
  $("token").value = "";
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signout").hidden = true;
  $("who").textContent = "";
}

// -------------------------------------------------------------- list

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

// The outcome cells a capture and each instance of a group capture share.
function outcomeCells(row, state, status) {
  cell(row, state, `state state-${state}`);
  cell(row, status && status.packetCaptureError.length
    ? status.packetCaptureError[0].code : status && status.stopReason, "reason");
  cell(row, status ? status.packetsCaptured : "", "num packets");
  cell(row, status ? status.bytesCaptured : "", "num bytes");
  cell(row, status ? status.kernelDrops : "", "num drops");
  cell(row, status && status.captureStartTime
    ? new Date(status.captureStartTime).toLocaleTimeString() : "");
  const files = cell(row, "", "files");
  for (const f of status ? status.files : []) {
    if (f.storagePath) {
      const a = document.createElement("a");
      a.href = f.storagePath;
      a.textContent = "blob";
      a.title = f.storagePath;
      a.rel = "noreferrer";
      files.appendChild(a);
    } else {
      files.appendChild(document.createTextNode(f.filePath));
    }
    files.appendChild(document.createTextNode(" "));
  }
}

// A group capture's instances, one row each under the capture's row.
function instanceRows(capture, status) {
  return (status && status.instances ? status.instances : []).map((inst) => {
    const row = document.createElement("tr");
    row.className = "instance";
    row.dataset.name = capture.name;
    row.dataset.instance = inst.instance;
    cell(row, `↳ instance ${inst.instance}`, "name");
    cell(row, inst.target);
    outcomeCells(row, inst.packetCaptureStatus, inst);
    cell(row, "");
    return row;
  });
}

function renderRow(capture, status) {
  const row = document.createElement("tr");
  const state = status ? status.packetCaptureStatus : capture.properties.packetCaptureStatus;
  const group = capture.properties.targetType === "AzureVMSS";
  row.dataset.name = capture.name;
  row.className = "capture";
  cell(row, capture.name, "name");
  cell(row, group ? `${capture.properties.target} (group of ${(status && status.instances || []).length})`
    : capture.properties.target);
  outcomeCells(row, state, status);
  const actions = document.createElement("div");
  actions.className = "actions";
  if (state === "Running" || state === "Queued") {
    const stop = document.createElement("button");
    stop.className = "secondary stop";
    stop.textContent = "Stop";
    stop.onclick = () => act("POST", `${base()}/${encodeURIComponent(capture.name)}/stop`);
    actions.appendChild(stop);
  }
  const del = document.createElement("button");
  del.className = "danger delete";
  del.textContent = "Delete";
  del.onclick = () => act("DELETE", `${base()}/${encodeURIComponent(capture.name)}`);
  actions.appendChild(del);
  cell(row, "").appendChild(actions);
  return row;
}

function workersPath() {
  return `/subscriptions/${encodeURIComponent(session.subscription)}` +
    `/regions/${encodeURIComponent(session.region)}/workers`;
}

function renderHost(h) {
  const row = document.createElement("tr");
  row.dataset.host = h.host;
  row.className = h.stale ? "stale" : "live";
  cell(row, h.host, "name");
  cell(row, h.group, "group");
  cell(row, h.instance);
  cell(row, `${h.activeSessions}/${h.capacity}`, "num");
  cell(row, h.interfaces.join(", "));
  cell(row, h.version);
  cell(row, `${(h.heartbeatAgeMs / 1000).toFixed(0)} s ago${h.stale ? " (stale)" : ""}`, "age");
  if (!h.stale) {
    row.title = "Use as the new capture's target (its group: the whole group)";
    row.onclick = (event) => {
      const group = h.group && event.target.classList.contains("group");
      $("f-target-type").value = group ? "AzureVMSS" : "AzureVM";
      $("f-target").value = group ? h.group : h.host;
      $("f-target").focus();
    };
  }
  return row;
}

async function refreshHosts() {
  const r = await api("GET", workersPath());
  if (r.status !== 200) return; // the captures' list says what is wrong
  const hosts = r.json.value;
  $("workers").querySelector("tbody").replaceChildren(...hosts.map(renderHost));
  $("no-hosts").hidden = hosts.length > 0;
}

async function refresh() {
  refreshHosts();
  const r = await api("GET", base());
  if (r.status !== 200) {
    $("list-error").textContent = message(r);
    return;
  }
  $("list-error").textContent = "";
  const captures = r.json.value;
  const statuses = await Promise.all(captures.map((c) =>
    api("POST", `${base()}/${encodeURIComponent(c.name)}/queryStatus`)));
  const body = $("captures").querySelector("tbody");
  body.replaceChildren(...captures.flatMap((c, i) => {
    const status = statuses[i].status === 200 ? statuses[i].json : null;
    return [renderRow(c, status), ...instanceRows(c, status)];
  }));
  $("empty").hidden = captures.length > 0;
}

async function act(method, path) {
  const r = await api(method, path);
  $("list-error").textContent = r.status >= 400 ? message(r) : "";
  refresh();
}

// ------------------------------------------------------------ create

function clearErrors() {
  for (const f of document.querySelectorAll(".field")) {
    f.classList.remove("invalid");
    f.querySelector(".field-error").textContent = "";
  }
  $("create-error").textContent = "";
  $("create-ok").textContent = "";
}

// A number when the text is one, else the text: the API says what is wrong.
function numberOrText(text) {
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

function requestBody(form) {
  const v = (name) => form.elements[name].value.trim();
  const p = { target: v("target") };
  const ids = (name) => v(name).split(",").map((x) => x.trim()).filter((x) => x !== "");
  if (v("targetType") === "AzureVMSS") {
    p.targetType = "AzureVMSS";
    p.scope = { include: ids("include"), exclude: ids("exclude") };
  }
  for (const name of ["bytesToCapturePerPacket", "totalBytesPerSession", "timeLimitInSeconds",
    "queueTimeoutInSeconds"]) {
    if (v(name) !== "") p[name] = numberOrText(v(name));
  }
  const storage = {};
  if (v("filePath") !== "") storage.filePath = v("filePath");
  if (v("storagePath") !== "") storage.storagePath = v("storagePath");
  p.storageLocation = storage;
  const filter = {};
  for (const name of ["localIPAddress", "remoteIPAddress", "localPort", "remotePort"]) {
    if (v(name) !== "") filter[name] = v(name);
  }
  if (v("protocol") !== "Any" || Object.keys(filter).length) {
    filter.protocol = v("protocol");
    p.filters = [filter];
  }
  return { properties: p };
}

// Each error of the answer next to its field; what has no field, below the form.
function showErrors(r) {
  const error = r.json && r.json.error;
  const list = error && error.details && error.details.length ? error.details : [error];
  for (const e of list) {
    if (!e) continue;
    const field = e.target && document.querySelector(`.field[data-target="${CSS.escape(e.target)}"]`);
    if (field) {
      field.classList.add("invalid");
      field.querySelector(".field-error").textContent = e.message;
    } else {
      $("create-error").textContent = `${e.code}: ${e.message}`;
    }
  }
  if (!error) $("create-error").textContent = `HTTP ${r.status}`;
}

async function create(event) {
  event.preventDefault();
  clearErrors();
  const form = event.target;
  const name = form.elements.name.value.trim();
  if (name === "") {
    const field = document.querySelector('.field[data-target="name"]');
    field.classList.add("invalid");
    field.querySelector(".field-error").textContent = "required: a capture name";
    return;
  }
  const r = await api("PUT", `${base()}/${encodeURIComponent(name)}`, requestBody(form));
  if (r.status === 200 || r.status === 201 || r.status === 202) {
    $("create-ok").textContent = r.status === 202
      ? `${name} sent; the scheduler has not answered yet`
      : `${name}: ${r.json.properties.packetCaptureStatus}`;
    refresh();
  } else {
    showErrors(r);
  }
}

// --------------------------------------------------------------- start

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", signIn);
  $("create-form").addEventListener("submit", create);
  $("signout").addEventListener("click", signOut);
  const saved = sessionStorage.getItem("fleetcap");
  if (saved) {
    Object.assign(session, JSON.parse(saved));
    show();
  }
});
