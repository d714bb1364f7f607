// Unmask pages: drag and drop, upload progress, scan progress, reveal buttons.
// Plain JavaScript, no framework; every page also works without it.
"use strict";

function setupUpload() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("files");
  const originalsInput = document.getElementById("originals");
  const zone = document.getElementById("drop-zone");
  const status = document.getElementById("upload-status");
  const maxBytes = Number(form.dataset.maxBytes);
  const maxFiles = Number(form.dataset.maxFiles);

  function say(text, isError) {
    const p = document.createElement("p");
    p.textContent = text;
    if (isError) p.className = "error-text";
    status.appendChild(p);
    return p;
  }

  ["dragenter", "dragover"].forEach((name) =>
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    })
  );
  ["dragleave", "drop"].forEach((name) =>
    zone.addEventListener(name, () => zone.classList.remove("dragging"))
  );
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      status.textContent = "";
      say(input.files.length + " file(s) chosen. Press “Check these files” to start.");
    }
  });

  function send(file) {
    return new Promise((resolve) => {
      const line = say(file.name + ": uploading…");
      const body = new FormData();
      // The session's form token first: the server writes no file before it has checked it.
      body.append("form_token", form.elements.form_token.value);
      body.append("files", file, file.name);
      // Each file to check travels with the originals it is to be compared with.
      originals().forEach((original) => body.append("originals", original, original.name));
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) {
          line.textContent = file.name + ": uploading… " +
            Math.round((100 * event.loaded) / event.total) + " %";
        }
      });
      xhr.addEventListener("load", () => {
        let answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
        if (xhr.status === 202 && answer.jobs) {
          line.textContent = file.name + ": received, waiting to be checked.";
          resolve(answer.jobs.map((job) => job.id));
        } else {
          const error = answer.error || { message: "The upload failed (" + xhr.status + ")." };
          line.textContent = file.name + ": " + error.message + (error.hint ? " " + error.hint : "");
          line.className = "error-text";
          resolve([]);
        }
      });
      xhr.addEventListener("error", () => {
        line.textContent = file.name + ": the upload did not reach the server. Please try again.";
        line.className = "error-text";
        resolve([]);
      });
      xhr.send(body);
    });
  }

  function originals() {
    return originalsInput ? Array.from(originalsInput.files) : [];
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    const files = Array.from(input.files);
    if (!files.length) {
      say("No file was chosen. Choose a picture or a video.", true);
      return;
    }
    if (files.length + originals().length > maxFiles) {
      say("Too many files at once: up to " + maxFiles + " per upload.", true);
      return;
    }
    const tooBig = files.concat(originals()).filter((f) => f.size > maxBytes);
    const empty = files.concat(originals()).filter((f) => f.size === 0);
    tooBig.forEach((f) => say(f.name + " is too large: each file may be up to " +
      form.dataset.maxLabel + ".", true));
    empty.forEach((f) => say(f.name + " is empty (0 bytes).", true));
    if (originals().some((f) => f.size > maxBytes || f.size === 0)) return;
    const ids = [];
    for (const file of files) {
      if (file.size > maxBytes || file.size === 0) continue;
      ids.push(...(await send(file)));
    }
    if (ids.length) {
      window.location.href = "/progress?" + ids.map((id) => "job=" + id).join("&");
    }
  });
}

function setupProgress() {
  const list = document.getElementById("jobs");
  if (!list) return;
  const items = Array.from(list.querySelectorAll("li.job"));
  const autoOpen = list.dataset.autoOpen === "yes";

  async function poll(item) {
    let state = "";
    try {
      const response = await fetch(item.dataset.statusUrl, { headers: { Accept: "application/json" } });
      const job = await response.json();
      state = job.state;
      item.querySelector(".message").textContent = job.message;
      item.className = "job state-" + state;
      if (response.status === 404) return;
      if (job.finished) {
        const bar = item.querySelector("progress");
        bar.max = 1;
        bar.value = 1;
        item.querySelector(".result-link").hidden = false;
        const verdict = item.querySelector(".verdict-line");
        if (verdict && job.verdict) {
          verdict.textContent = job.verdict;
          verdict.hidden = false;
        }
        if (autoOpen) window.location.href = item.dataset.resultUrl;
        return;
      }
    } catch (e) {
      item.querySelector(".message").textContent = "Waiting for the server…";
    }
    window.setTimeout(() => poll(item), 1000);
  }
  items.filter((item) => !/state-(done|error)/.test(item.className)).forEach(poll);
  if (autoOpen && items.length === 1 && /state-(done|error)/.test(items[0].className)) {
    window.location.href = items[0].dataset.resultUrl;
  }
}

function setupReveal() {
  document.querySelectorAll("button.reveal").forEach((button) => {
    button.addEventListener("click", () => {
      const img = document.getElementById(button.dataset.target);
      if (!img) return;
      if (!img.dataset.blurredSrc) img.dataset.blurredSrc = img.getAttribute("src");
      const reveal = button.getAttribute("aria-pressed") !== "true";
      img.src = reveal ? img.dataset.sharpSrc : img.dataset.blurredSrc;
      img.alt = img.dataset.alt + (reveal ? "" : ", blurred");
      img.classList.toggle("blurred", !reveal);
      button.setAttribute("aria-pressed", reveal ? "true" : "false");
      button.textContent = reveal ? "Blur again" : "Reveal this picture";
    });
  });
}

// The report form asks only the questions that apply: a question that depends on another
// answer (data-depends, the CLI's rule in unmask.report.answers.applies) is hidden until that
// answer is given. Without JavaScript every question is shown.
function setupDependentQuestions() {
  const form = document.querySelector("form.report-form");
  if (!form) return;
  const dependents = Array.from(form.querySelectorAll("[data-depends]"));
  function given(name) {
    const field = form.elements[name];
    if (!field) return true;
    return field.type === "checkbox" ? field.checked : field.value.trim() !== "";
  }
  function update() {
    dependents.forEach((question) => {
      question.hidden = !given(question.dataset.depends);
    });
  }
  // The time zone defaults to the browser's own (the server's may be elsewhere).
  const zone = form.elements.time_zone;
  if (zone && zone.dataset.browserZone === "yes" && window.Intl) {
    const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (browserZone) zone.value = browserZone;
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}

// Copy a request's text to the clipboard, saying so where a screen reader hears it.
function setupCopy() {
  document.querySelectorAll("button.copy").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.target);
      const status = button.parentElement.querySelector(".copy-status");
      if (!source) return;
      let copied = false;
      try {
        await navigator.clipboard.writeText(source.textContent);
        copied = true;
      } catch (e) {
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        copied = document.execCommand && document.execCommand("copy");
      }
      if (status) {
        status.textContent = copied
          ? "Copied."
          : "Could not copy: the text is selected, press Ctrl+C (or Cmd+C) to copy it.";
      }
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupUpload();
  setupProgress();
  setupReveal();
  setupDependentQuestions();
  setupCopy();
});
