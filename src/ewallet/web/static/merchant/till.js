// The till (no inline script: CSP). Enter in the amount field moves to the payment-code
// field instead of posting (without this script the server answers the same way, with the
// code field focused); the code field posts on Enter, as a keyboard-wedge scanner types it.
// A form already posting is not posted again (the server would answer the same sale).
(function () {
  "use strict";
  var form = document.querySelector("form[data-till]");
  if (!form) { return; }
  var amount = form.querySelector("#amount");
  var code = form.querySelector("#code");
  var sent = false;
  amount.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && amount.value.trim() !== "") {
      event.preventDefault();
      code.focus();
    }
  });
  form.addEventListener("submit", function (event) {
    if (sent) { event.preventDefault(); return; }
    if (amount.value.trim() !== "" && code.value.trim() === "") {
      event.preventDefault();
      code.focus();
      return;
    }
    sent = true;
  });
})();
