// ewallet's small script for the wallet pages. Pages work without it; it only adds comfort.
// - [data-countdown]: a "send code again" button waits its seconds, showing them.
// - [data-strength-for=ID]: a meter under a new password, scored as the server scores.
(function () {
  "use strict";

  function countdown(button) {
    var seconds = parseInt(button.getAttribute("data-countdown"), 10) || 0;
    var label = button.getAttribute("data-label") || button.textContent;
    var wait = button.getAttribute("data-wait") || "%s s";
    if (seconds <= 0) return;
    button.disabled = true;
    var tick = function () {
      if (seconds <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = wait.replace("%s", String(seconds));
      seconds -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  function score(value) {
    if (value.length < 8) return value.length ? 1 : 0;
    var kinds = 0;
    if (/[a-z]/.test(value)) kinds += 1;
    if (/[A-Z]/.test(value)) kinds += 1;
    if (/[0-9]/.test(value)) kinds += 1;
    if (/[^A-Za-z0-9]/.test(value)) kinds += 1;
    if (kinds < 2) return 1;
    if (value.length >= 12 && kinds >= 3) return 4;
    return kinds >= 3 ? 3 : 2;
  }

  function meter(element) {
    var input = document.getElementById(element.getAttribute("data-strength-for"));
    var text = element.parentNode.querySelector("[data-strength-text]");
    var words = (element.getAttribute("data-words") || "").split("|");
    if (!input) return;
    var update = function () {
      var value = score(input.value);
      element.setAttribute("data-score", String(value));
      element.setAttribute("aria-valuenow", String(value));
      if (text && words[value] !== undefined) text.textContent = words[value];
    };
    input.addEventListener("input", update);
    update();
  }

  function start(root) {
    root.querySelectorAll("[data-countdown]").forEach(countdown);
    root.querySelectorAll("[data-strength-for]").forEach(meter);
  }

  document.addEventListener("DOMContentLoaded", function () { start(document); });
  document.addEventListener("htmx:load", function (event) { start(event.target); });
})();
