// The counter terminal: when the assisted session's idle limit has passed, go back to
// /counter, where the server ends the session and clears the citizen's page. The server
// judges by the platform clock; this only makes the screen follow without a click.
(function () {
  var bar = document.querySelector("[data-idle-seconds]");
  if (!bar) return;
  var seconds = parseInt(bar.getAttribute("data-idle-seconds"), 10);
  if (!(seconds > 0)) return;
  window.setTimeout(function () {
    window.location.assign("/counter");
  }, (seconds + 1) * 1000);
})();
