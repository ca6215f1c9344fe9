// The editor's title count, kept current as the admin types. The server
// renders the first count, so the page works the same without this script;
// it is a file, not inline, so a Content-Security-Policy of 'self' allows it.
"use strict";

document.querySelectorAll("[data-count-for]").forEach((count) => {
  const field = document.getElementById(count.dataset.countFor);
  const max = Number(count.dataset.max);
  if (!field || !max) return;
  const update = () => {
    // Characters of the trimmed title, as the server counts them.
    const n = [...field.value.trim()].length;
    count.textContent = `${n} / ${max}`;
    count.classList.toggle("field-count--over", n > max);
  };
  field.addEventListener("input", update);
  update();
});

// Pictures: the upload form works without this script (it shows the media
// library). With it, choosing a file, pasting or dropping a picture on the
// body uploads it and inserts its Markdown at the cursor, with progress and
// the server's message when it is refused.
(() => {
  const form = document.getElementById("media-upload");
  if (!form) return;
  const body = document.getElementById(form.dataset.target);
  const input = form.querySelector('input[type="file"]');
  const status = document.getElementById("media-status");
  const token = form.querySelector('input[name="csrf_token"]').value;
  const say = (text, error) => {
    status.textContent = text;
    status.classList.toggle("field-error", Boolean(error));
  };

  const insert = (markdown) => {
    const start = body.selectionStart ?? body.value.length;
    const end = body.selectionEnd ?? start;
    const before = body.value.slice(0, start);
    const after = body.value.slice(end);
    const lead = before && !before.endsWith("\n\n") ? (before.endsWith("\n") ? "\n" : "\n\n") : "";
    const text = `${lead}${markdown}\n\n`;
    body.value = before + text + after;
    const caret = start + text.length;
    body.setSelectionRange(caret, caret);
    body.focus();
    body.dispatchEvent(new Event("input"));
  };

  const upload = (file) => {
    const data = new FormData();
    data.append("csrf_token", token);
    data.append("file", file, file.name || "pasted");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) say(`Uploading ${file.name || "picture"}: ${Math.round((100 * e.loaded) / e.total)} %`);
    });
    xhr.addEventListener("load", () => {
      let answer = {};
      try {
        answer = JSON.parse(xhr.responseText);
      } catch (_) {
        answer = {};
      }
      if (xhr.status === 201 && answer.markdown) {
        insert(answer.markdown);
        say(`Added ${answer.url}`);
      } else {
        say(answer.error || `The upload failed (${xhr.status}).`, true);
      }
    });
    xhr.addEventListener("error", () => say("The upload failed: the server could not be reached.", true));
    say(`Uploading ${file.name || "picture"}…`);
    xhr.send(data);
  };

  const pictures = (list) => [...(list || [])].filter((f) => f.type.startsWith("image/") || f.type === "");

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    pictures(input.files).forEach(upload);
    input.value = "";
  });
  input.addEventListener("change", () => {
    pictures(input.files).forEach(upload);
    input.value = "";
  });
  body.addEventListener("paste", (e) => {
    const files = pictures(e.clipboardData && e.clipboardData.files);
    if (files.length) {
      e.preventDefault();
      files.forEach(upload);
    }
  });
  body.addEventListener("dragover", (e) => {
    if (e.dataTransfer && [...e.dataTransfer.types].includes("Files")) e.preventDefault();
  });
  body.addEventListener("drop", (e) => {
    const files = pictures(e.dataTransfer && e.dataTransfer.files);
    if (files.length) {
      e.preventDefault();
      const at = document.caretPositionFromPoint ? document.caretPositionFromPoint(e.clientX, e.clientY) : null;
      if (at && at.offsetNode === body) body.setSelectionRange(at.offset, at.offset);
      files.forEach(upload);
    }
  });
})();
