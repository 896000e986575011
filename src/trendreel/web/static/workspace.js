// The workspace's only script: confirmations, following a background run, and the render choices'
// previews (a voice's WAV, a frame). No framework, no build.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

function followRun(box) {
  const url = box.dataset.runUrl;
  const statusEl = document.getElementById("run-status");
  const errorEl = document.getElementById("run-error");
  const nextEl = document.getElementById("run-next");
  const resultUrl = (result) => {
    for (const [stage, key, prefix] of [["publish", "publication_id", "/publications/"], ["edit", "video_id", "/videos/"],
                                        ["render", "video_id", "/videos/"], ["story", "story_id", "/stories/"]]) {
      const value = result && result[stage] && result[stage][key];
      if (value) return prefix + value;
    }
    return null;
  };
  async function poll() {
    let run;
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
      row.querySelector(".count").textContent = p.total ? `${p.done}/${p.total}` : String(p.done || 0);
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
