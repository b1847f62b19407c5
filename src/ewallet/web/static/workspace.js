// The script of the front ends people work in with an idle lock: the staff console and the
// merchant portal (no inline script anywhere: CSP). Three small jobs:
// 1. the idle lock: after data-idle-seconds without a key press, click or scroll, go to the
//    lock page (the server enforces the same limit with its activity cookie); while the
//    person works without leaving the page (typing in a chat), tell the server at most once
//    a minute (POST data-activity-url) so the lock does not fall in the middle;
// 2. forms and buttons with data-confirm ask before they post;
// 3. elements with data-autosubmit submit their form on change (filters).
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var lockUrl = body.getAttribute("data-lock-url");
  var activityUrl = body.getAttribute("data-activity-url");
  var csrf = body.getAttribute("data-csrf");
  if (!csrf) {
    try {
      csrf = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || null;
    } catch (e) { csrf = null; }
  }

  if (idle > 0 && lockUrl) {
    var last = Date.now();
    var told = Date.now();
    var touched = function () {
      last = Date.now();
      if (csrf && activityUrl && last - told > 60000) {
        told = last;
        fetch(activityUrl, {
          method: "POST",
          headers: { "X-CSRF-Token": csrf },
          credentials: "same-origin"
        }).catch(function () { /* the lock page will say so */ });
      }
    };
    ["keydown", "pointerdown", "wheel", "touchstart"].forEach(function (name) {
      document.addEventListener(name, touched, { passive: true });
    });
    setInterval(function () {
      if (Date.now() - last > idle * 1000) { window.location.assign(lockUrl); }
    }, 15000);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field && field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.requestSubmit();
    }
  });
})();
