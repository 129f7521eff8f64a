/* Warns a minute before the browser session expires by idleness, offers to stay signed in, and
   goes to the login page once it has expired. The server enforces the timeout; this only tells. */
(function () {
  "use strict";
  var box = document.getElementById("session-expiry");
  if (!box) { return; }
  var WARN_SECONDS = 60;
  var warnTimer = null;
  var endTimer = null;

  function ask(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; });
  }

  function toLogin() {
    var next = window.location.pathname + window.location.search;
    window.location.href = box.dataset.login + "?next=" + encodeURIComponent(next);
  }

  function schedule(remaining) {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    box.hidden = true;
    warnTimer = setTimeout(check, Math.max(0, remaining - WARN_SECONDS) * 1000);
  }

  // Another tab may have kept the session alive: ask (without counting as activity) before warning.
  function check() {
    ask(box.dataset.status).then(function (body) {
      if (!body || body.remaining <= 0) { toLogin(); return; }
      if (body.remaining > WARN_SECONDS + 5) { schedule(body.remaining); return; }
      box.hidden = false;
      endTimer = setTimeout(expire, body.remaining * 1000 + 500);
    }, function () { warnTimer = setTimeout(check, 10000); });
  }

  function expire() {
    ask(box.dataset.status).then(function (body) {
      if (body && body.remaining > 0) { schedule(body.remaining); } else { toLogin(); }
    }, toLogin);
  }

  box.querySelector("button").addEventListener("click", function () {
    ask(box.dataset.keepalive).then(function (body) {
      if (body) { schedule(body.remaining); } else { toLogin(); }
    }, toLogin);
  });

  schedule(parseInt(box.dataset.remaining, 10) || 0);
}());
