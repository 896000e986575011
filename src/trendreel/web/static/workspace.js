// The workspace's only script: confirmations, following a background run, and the render choices'
// previews (a voice's WAV, a frame). No framework, no build.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) { event.preventDefault(); return; }
  // A GET form that leads to another site (an OAuth sign-in) is followed as a navigation: the content
  // security policy's form-action keeps form submissions on this site, redirects included.
  if (form.hasAttribute("data-navigate")) {
    event.preventDefault();
    const data = new FormData(form);
    const part = form.querySelector("[data-path-part]");
    let action = form.getAttribute("action");
    if (part) { action = action.replace(/[^/]+$/, encodeURIComponent(part.value)); data.delete(part.name); }
    window.location.assign(action + "?" + new URLSearchParams(data).toString());
  }
});

// What a stage's done/total count, as the server's manage.STAGE_UNITS says.
const STAGE_UNITS = {crawl: "pages", index: "items", metrics: "publications", gc: "files", render: "videos",
                     edit: "videos", publish: "bytes"};

function sizeText(n) {
  let value = Number(n) || 0;
  for (const unit of ["B", "KB", "MB", "GB"]) {
    if (Math.abs(value) < 1000 || unit === "GB") return unit === "B" ? `${value.toFixed(0)} B` : `${value.toFixed(1)} ${unit}`;
    value /= 1000;
  }
  return `${value.toFixed(1)} TB`;
}

function secondsText(n) {
  n = Math.max(0, Math.round(n));
  if (n < 60) return `${n} s`;
  if (n < 3600) return `${Math.floor(n / 60)} min ${n % 60} s`;
  return `${Math.floor(n / 3600)} h ${Math.floor((n % 3600) / 60)} min`;
}

function progressText(stage, p) {
  let unit = STAGE_UNITS[stage] || "steps";
  const done = Number(p.done) || 0;
  const total = p.total;
  const parts = [];
  if (unit === "bytes") {
    parts.push(total ? `${sizeText(done)} of ${sizeText(total)} uploaded` : `${sizeText(done)} uploaded`);
  } else {
    if (stage === "trends" && p.info) unit = p.info;
    parts.push(total ? `${done.toLocaleString("en")} of ${Number(total).toLocaleString("en")} ${unit}` : `${done.toLocaleString("en")} ${unit}`);
  }
  let elapsed = null;
  if (p.started_at) {
    const end = p.finished_at ? Date.parse(p.finished_at) : Date.now();
    elapsed = (end - Date.parse(p.started_at)) / 1000;
    parts.push(secondsText(elapsed));
  }
  if (elapsed && elapsed >= 1 && done && (unit === "pages" || unit === "items")) parts.push(`${(done / elapsed).toFixed(1)} ${unit}/s`);
  if (p.info && stage !== "trends") parts.push(String(p.info));
  return parts.join(" · ");
}

function followRun(box) {
  const url = box.dataset.runUrl;
  const statusEl = document.getElementById("run-status");
  const errorEl = document.getElementById("run-error");
  const nextEl = document.getElementById("run-next");
  const RUN_PAGES = {report: "/report", metrics: "/publications", trends: "/trends", crawl: "/articles", index: "/articles"};
  let run = null;
  const resultUrl = (result) => {
    for (const [stage, key, prefix] of [["publish", "publication_id", "/publications/"], ["edit", "video_id", "/videos/"],
                                        ["render", "video_id", "/videos/"], ["story", "story_id", "/stories/"]]) {
      const value = result && result[stage] && result[stage][key];
      if (value) return prefix + value;
    }
    return run.status === "done" ? (RUN_PAGES[run.kind] || null) : null;
  };
  async function poll() {
    try {
      const resp = await fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (resp.status === 401) { window.location = "/login?next=" + encodeURIComponent(window.location.pathname); return; }
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      run = await resp.json();
    } catch (err) {
      statusEl.textContent = "cannot reach the server (" + err.message + "); retrying";
      setTimeout(poll, 3000);
      return;
    }
    box.dataset.status = run.status;
    statusEl.innerHTML = "";
    const badge = document.createElement("span");
    badge.className = "status s-" + run.status;
    badge.textContent = run.status;
    statusEl.appendChild(badge);
    for (const [name, p] of Object.entries(run.progress || {})) {
      const row = document.querySelector(`tr[data-stage="${CSS.escape(name)}"]`);
      if (!row) continue;
      row.querySelector(".state").textContent = p.state;
      const bar = row.querySelector("progress");
      bar.max = p.total || 1;
      bar.value = p.total ? p.done : (p.state === "done" ? 1 : 0);
      row.querySelector(".count").textContent = progressText(name, p);
    }
    if (run.error) { errorEl.textContent = run.error; errorEl.hidden = false; }
    const next = resultUrl(run.result);
    if (next) { nextEl.querySelector("a").href = next; nextEl.hidden = false; }
    if (run.status === "queued" || run.status === "running") setTimeout(poll, 1000);
  }
  if (box.dataset.status === "queued" || box.dataset.status === "running") poll();
}

// POST JSON to the API with the session's CSRF token; the answer as a blob, or an Error with the API's message.
async function postForBlob(url, form, body) {
  const token = form.querySelector("input[name=csrf_token]").value;
  const resp = await fetch(url, {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": token}, body: JSON.stringify(body)});
  if (!resp.ok) {
    let message = "HTTP " + resp.status;
    try { message = (await resp.json()).error.message || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return resp.blob();
}

function renderChoices(form) {
  const story = form.dataset.story;
  const audio = document.getElementById("voice-audio");
  const voiceStatus = document.getElementById("voice-status");
  const image = document.getElementById("frame-image");
  const frameStatus = document.getElementById("frame-status");
  const choices = () => {
    const data = new FormData(form);
    const out = {};
    for (const key of ["voice", "subtitle_style", "music", "aspect"]) {
      const value = data.get(key);
      if (value) out[key] = value;
    }
    return out;
  };
  document.getElementById("voice-preview").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    voiceStatus.textContent = "saying a sample…";
    try {
      const blob = await postForBlob("/api/v1/voices/preview", form, {voice: choices().voice, lang: form.dataset.lang});
      if (audio.src) URL.revokeObjectURL(audio.src);
      audio.src = URL.createObjectURL(blob);
      audio.hidden = false;
      voiceStatus.textContent = "";
      audio.play().catch(() => { /* the browser may wait for a click on the player */ });
    } catch (err) {
      voiceStatus.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById("frame-preview").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    frameStatus.textContent = "drawing the frame…";
    try {
      const picked = choices();
      delete picked.music;  // music is not in a picture
      const blob = await postForBlob(`/api/v1/stories/${encodeURIComponent(story)}/preview-frame`, form, picked);
      if (image.src) URL.revokeObjectURL(image.src);
      image.src = URL.createObjectURL(blob);
      image.hidden = false;
      frameStatus.textContent = "the frame just after the hook, " + (picked.aspect || "") ;
    } catch (err) {
      frameStatus.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("run");
  if (box) followRun(box);
  const form = document.getElementById("render-form");
  if (form) renderChoices(form);
});
