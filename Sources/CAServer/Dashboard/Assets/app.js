// The ca dashboard: one page over the same /v1 API as every other client.
//
// Everything that comes from a task (prompts, agent text, tool input and output, file names,
// diffs, errors) is untrusted: it only ever reaches the page as text (textContent, text nodes,
// attribute values of our own choosing), never as HTML. The server's Content-Security-Policy
// enforces this with Trusted Types: assigning a string to innerHTML would throw.
"use strict";

const FINAL = new Set(["succeeded", "failed", "cancelled", "timed_out"]);
const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled", "timed_out"];
const MAX_EVENTS = 5000;          // events kept on a task page
const MAX_TEXT = 20000;           // characters of one event shown
const MAX_DIFF_LINES = 5000;      // lines of a diff rendered
const LIST_REFRESH_MS = 3000;

const session = { name: null, admin: false, csrf: null };
let cleanup = [];                 // what the current view must stop (timers, event sources)

// ---- DOM helpers ---------------------------------------------------------------------------

/** An element with attributes (set as attributes or safe properties) and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "href") node.setAttribute("href", safeHref(value));
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Links go only to our own routes and API, or to http(s) URLs; anything else (javascript:, data:) becomes inert. */
function safeHref(value) {
  const text = String(value);
  if (text.startsWith("#/") || text.startsWith("/v1/")) return text;
  try {
    const url = new URL(text);
    if (url.protocol === "https:" || url.protocol === "http:") return url.href;
  } catch (_) { /* not a URL */ }
  return "#";
}

function clip(text, limit) {
  const value = String(text ?? "");
  return value.length > limit ? value.slice(0, limit) + `… (${value.length - limit} more characters)` : value;
}

function oneLine(text, limit) {
  return clip(String(text ?? "").replace(/\s+/g, " ").trim(), limit);
}

function flash(message, kind) {
  const box = document.getElementById("flash");
  box.textContent = message;
  box.className = kind || "";
  box.hidden = !message;
}

function money(value) {
  return typeof value === "number" ? "$" + value.toFixed(value < 1 ? 4 : 2) : "–";
}

function duration(from, to) {
  if (!from) return "–";
  const seconds = Math.max(0, Math.round(((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

function age(date) {
  return date ? duration(date, null) + " ago" : "–";
}

function badge(status) {
  return el("span", { class: `badge ${/^[a-z_]+$/.test(status) ? status : ""}`, "data-status": status, text: String(status).replace("_", " ") });
}

// ---- API -------------------------------------------------------------------------------------

class APIError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.code = problem && problem.code;
  }
}

async function api(path, options = {}) {
  const method = options.method || "GET";
  const headers = { Accept: options.accept || "application/json" };
  if (method !== "GET" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  if (options.json !== undefined) headers["Content-Type"] = "application/json";
  if (options.idempotent) headers["Idempotency-Key"] = crypto.randomUUID();
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", cache: "no-store",
    body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
  });
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch (_) { /* not JSON */ }
    if (response.status === 401 && path !== "/session") signedOut();
    throw new APIError(response.status, problem);
  }
  if (response.status === 204) return null;
  return options.accept && options.accept !== "application/json" ? response.text() : response.json();
}

function signedOut() {
  session.name = null;
  session.csrf = null;
  document.getElementById("nav").hidden = true;
  if (!location.hash.startsWith("#/sign-in")) location.hash = "#/sign-in";
}

// ---- Views -----------------------------------------------------------------------------------

function show(...nodes) {
  for (const stop of cleanup) stop();
  cleanup = [];
  const main = document.getElementById("main");
  main.replaceChildren(...nodes);
}

function signInView() {
  const key = el("input", { type: "password", id: "key", name: "key", autocomplete: "current-password", required: true, spellcheck: "false" });
  const form = el("form", { id: "sign-in", class: "card narrow", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const answer = await api("/session", { method: "POST", json: { key: key.value } });
      key.value = "";
      signedIn(answer);
      flash("");
      location.hash = "#/";
    } catch (error) {
      flash(error.message, "error");
    }
  } },
  el("h1", { text: "Sign in" }),
  el("p", { class: "muted", text: "Use an API key of this server (ca keys create NAME). It is exchanged for a session cookie and not kept in the page." }),
  el("label", { for: "key", text: "API key" }), key,
  el("button", { type: "submit", id: "sign-in-button", text: "Sign in" }));
  show(form);
  key.focus();
}

function signedIn(answer) {
  session.name = answer.name;
  session.admin = answer.admin;
  session.csrf = answer.csrf_token;
  document.getElementById("who").textContent = answer.admin ? `${answer.name} (admin)` : answer.name;
  document.getElementById("nav").hidden = false;
}

function listView(status) {
  const filter = el("select", { id: "status-filter", "aria-label": "Status", onchange: () => {
    location.hash = filter.value ? `#/?status=${filter.value}` : "#/";
  } }, el("option", { value: "", text: "All statuses" }), STATUSES.map((s) => el("option", { value: s, selected: s === status, text: s.replace("_", " ") })));
  const body = el("tbody", { id: "task-rows" });
  const table = el("table", { class: "tasks" },
    el("thead", {}, el("tr", {}, ["Status", "Prompt", "Repository", "Owner", "Age", "Duration", "Cost"].map((h) => el("th", { scope: "col", text: h })))),
    body);
  const empty = el("p", { class: "muted", id: "no-tasks", hidden: true, text: "No tasks yet." });
  let wanted = 50;                  // tasks shown; "Show more" adds 50
  const more = el("button", { type: "button", id: "show-more", hidden: true, text: "Show more", onclick: () => {
    wanted += 50;
    clearTimeout(timer);
    refresh();
  } });
  show(el("div", { class: "toolbar" }, el("h1", { text: "Tasks" }), filter, el("a", { href: "#/new", class: "button", text: "New task" })), table, empty, more);

  let timer = null;
  let stopped = false;
  async function refresh() {
    try {
      // The newest `wanted` tasks, page by page (at most 200 a page).
      const tasks = [];
      let cursor = null;
      do {
        const query = new URLSearchParams({ limit: String(Math.min(200, wanted - tasks.length)) });
        if (status) query.set("status", status);
        if (cursor) query.set("cursor", cursor);
        const page = await api(`/v1/tasks?${query}`);
        tasks.push(...page.tasks);
        cursor = page.next_cursor;
      } while (cursor && tasks.length < wanted);
      if (stopped) return;
      body.replaceChildren(...tasks.map(row));
      empty.hidden = tasks.length > 0;
      more.hidden = !cursor;
    } catch (error) {
      if (!stopped && error.status !== 401) flash(error.message, "error");
    }
    if (!stopped) timer = setTimeout(refresh, LIST_REFRESH_MS);
  }
  cleanup.push(() => { stopped = true; clearTimeout(timer); });
  refresh();
}

function row(task) {
  const link = el("a", { href: `#/tasks/${task.id}`, class: "prompt", text: oneLine(task.prompt, 120) });
  return el("tr", { "data-task": task.id },
    el("td", { "data-label": "Status" }, badge(task.status)),
    el("td", { "data-label": "Prompt" }, link),
    el("td", { "data-label": "Repository", class: "repo", text: oneLine(task.repository_url, 80) }),
    el("td", { "data-label": "Owner", text: task.owner ?? "–" }),
    el("td", { "data-label": "Age", text: age(task.created_at) }),
    el("td", { "data-label": "Duration", text: duration(task.started_at, task.finished_at) }),
    el("td", { "data-label": "Cost", text: money(task.cost_usd) }));
}

function newTaskView() {
  const field = (label, input, hint) => el("div", { class: "field" }, el("label", { for: input.id, text: label }), input, hint ? el("small", { class: "muted", text: hint }) : null);
  const prompt = el("textarea", { id: "new-prompt", rows: 5, required: true, maxlength: 100000 });
  const repo = el("input", { id: "new-repo", type: "text", required: true, placeholder: "https://github.com/org/app.git", spellcheck: "false" });
  const branch = el("input", { id: "new-branch", type: "text", placeholder: "default branch", spellcheck: "false" });
  const sandbox = el("select", { id: "new-sandbox" }, el("option", { value: "", text: "server default" }), ["local", "novita", "e2b"].map((s) => el("option", { value: s, text: s })));
  const timeout = el("input", { id: "new-timeout", type: "number", min: 1, max: 525600, placeholder: "60" });
  const turns = el("input", { id: "new-max-turns", type: "number", min: 1, max: 10000 });
  const submit = el("button", { type: "submit", id: "create", text: "Start task" });
  const form = el("form", { id: "new-task", class: "card", onsubmit: async (event) => {
    event.preventDefault();
    const request = { prompt: prompt.value, repository_url: repo.value.trim() };
    if (branch.value.trim()) request.branch = branch.value.trim();
    if (sandbox.value) request.sandbox = sandbox.value;
    if (timeout.value) request.timeout_seconds = Math.round(Number(timeout.value) * 60);
    if (turns.value) request.max_turns = Number(turns.value);
    submit.disabled = true;
    try {
      const task = await api("/v1/tasks", { method: "POST", json: request, idempotent: true });
      flash("");
      location.hash = `#/tasks/${task.id}`;
    } catch (error) {
      flash(error.message, "error");
      submit.disabled = false;
    }
  } },
  el("h1", { text: "New task" }),
  field("Prompt", prompt), field("Repository", repo, "A git URL the server can clone."),
  el("div", { class: "row" }, field("Branch", branch), field("Sandbox", sandbox), field("Timeout (minutes)", timeout), field("Max turns", turns)),
  submit);
  show(form);
  prompt.focus();
}

// ---- Task page -------------------------------------------------------------------------------

function taskView(id) {
  const summary = el("section", { id: "summary", class: "card", "aria-live": "polite" });
  const actions = el("section", { id: "actions", class: "actions" });
  const chain = el("nav", { id: "chain", class: "chain muted", "aria-label": "Resume chain" });
  const log = el("ol", { id: "log", class: "log", "aria-label": "Log" });
  const diff = el("section", { id: "diff-section", hidden: true }, el("h2", { text: "Diff" }), el("div", { id: "diff", class: "diff" }));
  const files = el("section", { id: "files-section", hidden: true }, el("h2", { text: "Files" }), el("ul", { id: "files", class: "files" }));
  show(chain, summary, actions, el("h2", { text: "Log" }), log, diff, files);

  let task = null;
  let source = null;
  let stopped = false;
  let results = false;
  // While the task has not ended, its duration counts up and the rest of the summary (status,
  // cost, tokens) is read again every 3 s; the log itself is live through the event stream.
  let ticks = 0;
  let reading = false;
  async function reread() {
    if (reading) return;
    reading = true;
    try {
      const current = await api(`/v1/tasks/${encodeURIComponent(task.id)}`);
      if (!stopped && !FINAL.has(task.status)) render(current);
    } catch (_) { /* the next tick tries again */ }
    reading = false;
  }
  const ticker = setInterval(() => {
    if (!task || FINAL.has(task.status)) return;
    const cell = summary.querySelector("dd[data-fact='duration']");
    if (cell) cell.textContent = duration(task.started_at, null);
    ticks += 1;
    if (ticks % 3 === 0) reread();
  }, 1000);
  cleanup.push(() => { stopped = true; clearInterval(ticker); if (source) source.close(); });

  let shown = "";
  let actionsShown = "";
  function render(current) {
    task = current;
    // Re-draw only what changed (a focused button or selected text stays as it is).
    const state = JSON.stringify(task);
    if (state !== shown) renderSummary(summary, task);
    shown = state;
    const kind = FINAL.has(task.status) ? "final" : "live";
    if (kind !== actionsShown) renderActions(actions, task);
    actionsShown = kind;
    if (FINAL.has(task.status) && !results) {
      results = true;
      loadResults(task, diff, files);
    }
  }

  (async () => {
    try {
      render(await api(`/v1/tasks/${encodeURIComponent(id)}`));
    } catch (error) {
      summary.replaceChildren(el("p", { class: "error", id: "task-error", text: error.status === 404 ? `No task ${id}.` : error.message }));
      return;
    }
    renderChain(chain, task);
    if (stopped) return;
    // The live log: every event since the start, then new ones as they come; the browser
    // reconnects with Last-Event-ID by itself.
    let count = 0;
    source = new EventSource(`/v1/tasks/${encodeURIComponent(task.id)}/logs`);
    source.addEventListener("event", (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (_) { return; }
      if (count >= MAX_EVENTS) return;
      count += 1;
      if (task.status === "queued") reread();   // events mean it started
      const item = renderEvent(event);
      if (item) log.append(item);
      if (count === MAX_EVENTS) log.append(el("li", { class: "note", text: `Only the first ${MAX_EVENTS} events are shown; ca task logs has them all.` }));
    });
    source.addEventListener("end", (message) => {
      source.close();
      try { render(JSON.parse(message.data)); } catch (_) { /* keep the last state */ }
    });
    source.onerror = async () => {
      if (source.readyState === EventSource.CLOSED && !stopped) {
        try { render(await api(`/v1/tasks/${encodeURIComponent(task.id)}`)); } catch (_) { /* signed out or gone */ }
      }
    };
  })();
}

function renderSummary(box, task) {
  const facts = [
    ["Status", badge(task.status)],
    ["Repository", oneLine(task.repository_url, 200) + (task.branch ? ` (${oneLine(task.branch, 100)})` : "")],
    ["Owner", task.owner ?? "–"],
    ["Created", new Date(task.created_at).toLocaleString()],
    ["Duration", duration(task.started_at, task.finished_at)],
    ["Cost", money(task.cost_usd) + (typeof task.max_cost_usd === "number" ? ` of ${money(task.max_cost_usd)}` : "")],
    ["Tokens", task.input_tokens != null ? `${task.input_tokens} in, ${task.output_tokens ?? 0} out` : "–"],
    ["Turns", task.num_turns ?? "–"],
  ];
  if (task.failure_reason) facts.push(["Reason", task.failure_reason]);
  if (task.pull_request_url) facts.push(["Pull request", el("a", { href: task.pull_request_url, rel: "noreferrer noopener", target: "_blank", text: oneLine(task.pull_request_url, 200) })]);
  const list = el("dl", { class: "facts" }, facts.map(([name, value]) => [el("dt", { text: name }), el("dd", { "data-fact": name.toLowerCase() }, value)]));
  const parts = [el("h1", { class: "task-title" }, el("span", { class: "muted", text: `Task ${task.id}` })),
    el("p", { class: "prompt-full", id: "task-prompt", text: clip(task.prompt, MAX_TEXT) }), list];
  if (task.result) parts.push(el("h2", { text: "Result" }), el("p", { class: "result", id: "task-result", text: clip(task.result, MAX_TEXT) }));
  if (task.error) parts.push(el("p", { class: "error", id: "task-error", text: clip(task.error, MAX_TEXT) }));
  if (Array.isArray(task.attempts) && task.attempts.length) {
    parts.push(el("h2", { text: "Attempts" }), el("ul", { class: "attempts" }, task.attempts.map((a) =>
      el("li", {}, el("a", { href: `#/tasks/${a.id}`, text: `Attempt ${a.attempt}` }), " ", badge(a.status), ` ${money(a.cost_usd)}`,
        a.files_changed != null ? `, ${a.files_changed} files changed` : ""))));
  }
  box.replaceChildren(...parts);
}

function renderActions(box, task) {
  const buttons = [];
  if (!FINAL.has(task.status)) {
    buttons.push(el("button", { type: "button", id: "cancel", class: "danger", onclick: async (event) => {
      event.target.disabled = true;
      try {
        await api(`/v1/tasks/${task.id}/cancel`, { method: "POST" });
        flash("Cancel requested.");
      } catch (error) {
        flash(error.message, "error");
        event.target.disabled = false;
      }
    }, text: "Cancel task" }));
  } else if (!task.attempts) {
    const prompt = el("textarea", { id: "resume-prompt", rows: 3, required: true, "aria-label": "Follow-up prompt", placeholder: "What should the agent do next?" });
    const submit = el("button", { type: "submit", id: "resume", text: "Resume" });
    buttons.push(el("h2", { text: "Follow up" }), el("form", { id: "resume-form", class: "resume", onsubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const child = await api(`/v1/tasks/${task.id}/resume`, { method: "POST", json: { prompt: prompt.value }, idempotent: true });
        flash("");
        location.hash = `#/tasks/${child.id}`;
      } catch (error) {
        flash(error.message, "error");
        submit.disabled = false;
      }
    } }, prompt, submit));
  }
  box.replaceChildren(...buttons);
}

async function renderChain(box, task) {
  // The tasks this one was resumed from, oldest first (at most 20 back).
  const parents = [];
  let current = task;
  while (current.parent_id && parents.length < 20) {
    try { current = await api(`/v1/tasks/${encodeURIComponent(current.parent_id)}`); } catch (_) { break; }
    parents.unshift(current);
  }
  if (task.attempt_of) parents.push({ id: task.attempt_of, prompt: "best-of-N parent" });
  // And the follow-ups resumed from it.
  let children = [];
  try { children = (await api(`/v1/tasks?parent=${encodeURIComponent(task.id)}&limit=50`)).tasks; } catch (_) { /* none shown */ }
  const link = (t) => el("a", { href: `#/tasks/${t.id}`, text: `${t.id} “${oneLine(t.prompt, 40)}”` });
  const lines = [];
  if (parents.length) lines.push(el("div", { id: "chain-parents" }, "Resumed from: ", parents.flatMap((p, i) => [i ? " → " : "", link(p)])));
  if (children.length) lines.push(el("div", { id: "chain-children" }, "Follow-ups: ", children.reverse().flatMap((c, i) => [i ? ", " : "", link(c)])));
  box.replaceChildren(...lines);
}

async function loadResults(task, diffSection, filesSection) {
  try {
    const patch = await api(`/v1/tasks/${task.id}/patch`, { accept: "text/x-diff" });
    renderDiff(diffSection.querySelector("#diff"), patch);
    diffSection.hidden = false;
  } catch (error) {
    if (error.status !== 409) flash(error.message, "error");
  }
  try {
    const list = await api(`/v1/tasks/${task.id}/files`);
    renderFiles(filesSection.querySelector("#files"), task, list.artifacts);
    filesSection.hidden = false;
  } catch (error) {
    if (error.status !== 409) flash(error.message, "error");
  }
}

function renderDiff(box, patch) {
  if (!patch) {
    box.replaceChildren(el("p", { class: "muted", text: "The agent changed nothing." }));
    return;
  }
  const lines = patch.split("\n");
  const shown = lines.slice(0, MAX_DIFF_LINES).map((line) => {
    let kind = "ctx";
    if (line.startsWith("diff --git") || line.startsWith("+++") || line.startsWith("---") || line.startsWith("index ")) kind = "file";
    else if (line.startsWith("@@")) kind = "hunk";
    else if (line.startsWith("+")) kind = "add";
    else if (line.startsWith("-")) kind = "del";
    return el("div", { class: `line ${kind}` }, clip(line, 2000) || "\u00a0");
  });
  if (lines.length > MAX_DIFF_LINES) shown.push(el("div", { class: "line note", text: `${lines.length - MAX_DIFF_LINES} more lines: ca task diff has the whole patch.` }));
  box.replaceChildren(el("pre", {}, shown));
}

function renderFiles(box, task, artifacts) {
  const items = artifacts.filter((a) => a.kind !== "patch" && a.kind !== "transcript").map((a) => {
    if (a.kind === "file") {
      const encoded = a.path.split("/").map(encodeURIComponent).join("%2F");
      const name = a.path.split("/").pop() || "file";
      return el("li", { "data-kind": a.kind },
        el("a", { href: `/v1/tasks/${task.id}/files/${encoded}`, download: name, class: "file-link", text: a.path }),
        el("span", { class: "muted", text: ` ${a.size} bytes` }));
    }
    return el("li", { "data-kind": a.kind }, el("span", { class: "path", text: a.path }), el("span", { class: "muted", text: ` ${a.kind}${a.note ? ": " + oneLine(a.note, 200) : ""}` }));
  });
  box.replaceChildren(...(items.length ? items : [el("li", { class: "muted", text: "No files saved." })]));
}

/** One log line for an event (see the Event schema: the stream-json event as Claude Code wrote it, or ca's note). */
function renderEvent(event) {
  const data = event.data || {};
  const item = (kind, ...children) => el("li", { class: `ev ${kind}`, "data-seq": event.seq, "data-type": kind }, ...children);
  switch (event.type) {
    case "assistant": {
      const blocks = (data.message && Array.isArray(data.message.content)) ? data.message.content : [];
      const parts = [];
      for (const block of blocks) {
        if (block.type === "text" && block.text) parts.push(el("div", { class: "text", text: clip(block.text, MAX_TEXT) }));
        else if (block.type === "tool_use") parts.push(el("div", { class: "tool" }, el("span", { class: "tool-name", text: oneLine(block.name, 60) }), " ", el("code", { text: toolSummary(block.name, block.input) })));
      }
      return parts.length ? item("assistant", ...parts) : null;
    }
    case "user": {
      const blocks = (data.message && Array.isArray(data.message.content)) ? data.message.content : [];
      const parts = [];
      for (const block of blocks) {
        if (block.type !== "tool_result") continue;
        const text = typeof block.content === "string" ? block.content
          : Array.isArray(block.content) ? block.content.filter((c) => c && c.type === "text").map((c) => c.text).join("\n") : "";
        const lines = text ? text.split("\n").length : 0;
        parts.push(el("details", { class: block.is_error ? "tool-result failed" : "tool-result" },
          el("summary", { text: `${block.is_error ? "error" : "result"}: ${lines} line${lines === 1 ? "" : "s"}` }),
          el("pre", { text: clip(text, MAX_TEXT) })));
      }
      return parts.length ? item("tool-result", ...parts) : null;
    }
    case "result":
      return item("result", el("strong", { text: data.is_error ? "Finished with an error" : "Finished" }),
        typeof data.total_cost_usd === "number" ? ` (${money(data.total_cost_usd)}, ${data.num_turns ?? "?"} turns)` : "");
    case "system":
      return data.subtype === "init" ? item("system", `Claude Code started${data.model ? ` (${oneLine(data.model, 60)})` : ""}`) : null;
    default: {
      const message = data.message ?? data.detail ?? data.host ?? "";
      return item("note", el("span", { class: "muted", text: `${oneLine(event.type, 20)}${event.subtype ? " " + oneLine(event.subtype, 40) : ""}: ` }), oneLine(typeof message === "string" ? message : JSON.stringify(message), 500));
    }
  }
}

/** A tool call's input in one line: the command, the file, the pattern, or the input as JSON. */
function toolSummary(name, input) {
  if (!input || typeof input !== "object") return "";
  const pick = input.command ?? input.file_path ?? input.path ?? input.pattern ?? input.url ?? input.description;
  return oneLine(typeof pick === "string" ? pick : JSON.stringify(input), 200);
}

// ---- Routing ---------------------------------------------------------------------------------

function route() {
  const hash = location.hash || "#/";
  const [path, query] = hash.slice(1).split("?");
  flash("");
  if (!session.csrf && path !== "/sign-in") {
    signedOut();
    return;
  }
  if (path === "/sign-in") return signInView();
  if (path === "/new") return newTaskView();
  const task = path.match(/^\/tasks\/([0-9a-z]{1,40})$/);
  if (task) return taskView(task[1]);
  const status = new URLSearchParams(query || "").get("status");
  return listView(STATUSES.includes(status) ? status : null);
}

async function start() {
  document.getElementById("sign-out").addEventListener("click", async () => {
    try { await api("/session", { method: "DELETE" }); } catch (_) { /* signed out anyway */ }
    signedOut();
  });
  window.addEventListener("hashchange", route);
  try {
    signedIn(await api("/session"));
    if (location.hash.startsWith("#/sign-in")) location.hash = "#/";
  } catch (_) {
    /* not signed in: route() shows the form */
  }
  route();
}

start();
