// The workspace's only script: confirmations and following a background run. No framework, no build.
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

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("run");
  if (box) followRun(box);
});
