// The home page's balance can be hidden from people looking over your shoulder; the choice
// is kept in this browser. Without JavaScript the balance simply shows.
(function () {
  "use strict";
  var KEY = "ewallet.hideBalance";

  function start() {
    var button = document.getElementById("balance-toggle");
    var amount = document.getElementById("balance-amount");
    if (!button || !amount) return;
    var shown = amount.textContent;

    function apply(hidden) {
      amount.textContent = hidden ? amount.getAttribute("data-masked") : shown;
      button.setAttribute("aria-pressed", hidden ? "true" : "false");
      try {
        window.localStorage.setItem(KEY, hidden ? "1" : "0");
      } catch (ignored) { /* private mode: the choice lasts for this page */ }
    }

    var stored = null;
    try { stored = window.localStorage.getItem(KEY); } catch (ignored) { stored = null; }
    button.hidden = false;
    apply(stored === "1");
    button.addEventListener("click", function () {
      apply(button.getAttribute("aria-pressed") !== "true");
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
