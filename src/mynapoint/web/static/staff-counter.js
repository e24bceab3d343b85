// The counter terminal's idle end (services/counter_sessions.py). The server ends a session
// after the idle limit without activity, judged by the platform clock; this page
// - counts typing and choosing in its forms as activity: it tells the server
//   (POST /counter/activity, at most every few seconds), which moves the end and answers
//   with the seconds left;
// - warns before the end, with a button that keeps the session going;
// - at the end goes back to /counter, where the server ends the session and clears the page;
// - says at once when the session has ended meanwhile (another card read in another tab):
//   its forms would be refused.
(function () {
  "use strict";
  var bar = document.querySelector("[data-idle-watch]");
  if (!bar) return;
  var session = bar.getAttribute("data-session");
  var warnSeconds = parseInt(bar.getAttribute("data-warn-seconds"), 10) || 0;
  var text = bar.querySelector(".idle-text");
  var warning = bar.querySelector(".idle-warning");
  var keep = bar.querySelector(".idle-keep");
  var token = document.querySelector('input[name="csrf_token"]');
  var SEND_EVERY_MS = 2000;
  var warnTimer = null;
  var endTimer = null;
  var lastSent = 0;
  var queued = null;

  function toCounter() {
    window.location.assign("/counter");
  }

  function schedule(secondsLeft) {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    warning.hidden = true;
    warnTimer = window.setTimeout(function () {
      warning.hidden = false;
    }, Math.max(0, secondsLeft - warnSeconds) * 1000);
    endTimer = window.setTimeout(toCounter, (secondsLeft + 1) * 1000);
  }

  function ended(sentence) {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    document.removeEventListener("input", activity, true);
    document.removeEventListener("change", activity, true);
    warning.querySelector("[role=alert]").textContent = sentence;
    keep.hidden = true;
    warning.hidden = false;
  }

  function send() {
    lastSent = Date.now();
    var body = new URLSearchParams();
    body.set("session", session);
    window
      .fetch("/counter/activity", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": token ? token.value : "" },
        body: body,
      })
      .then(function (response) {
        return response.json();
      })
      .then(function (answer) {
        if (!answer.open) {
          ended(answer.text);
          return;
        }
        text.textContent = answer.text;
        schedule(answer.seconds_left);
      })
      .catch(function () {
        // The server did not answer: the timers stand; the end still goes to /counter.
      });
  }

  function activity() {
    if (queued !== null) return;
    var wait = SEND_EVERY_MS - (Date.now() - lastSent);
    if (wait <= 0) {
      send();
      return;
    }
    queued = window.setTimeout(function () {
      queued = null;
      send();
    }, wait);
  }

  document.addEventListener("input", activity, true);
  document.addEventListener("change", activity, true);
  keep.addEventListener("click", send);
  schedule(parseInt(bar.getAttribute("data-seconds-left"), 10) || 0);
})();
