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
