// The waiting page of admission control (web/admission.py): reload after Retry-After seconds,
// unless the reader stops it (a page may not refresh itself without that choice: WCAG 2.2.1).
// A file, not inline: the pages' Content-Security-Policy runs no inline script.
(function () {
  "use strict";
  var note = document.getElementById("auto-reload");
  var stop = document.getElementById("stop-reload");
  if (!note || !stop) {
    return;
  }
  var seconds = parseInt(note.getAttribute("data-seconds"), 10) || 5;
  var timer = window.setTimeout(function () {
    window.location.reload();
  }, seconds * 1000);
  stop.hidden = false;
  stop.addEventListener("click", function () {
    window.clearTimeout(timer);
    stop.hidden = true;
    note.textContent = note.getAttribute("data-stopped");
  });
})();
