// The rule editor: when the server refused a condition that does not compile, put the
// cursor on the character it points at (the page already marks it, without JavaScript too).
(function () {
  "use strict";
  var box = document.querySelector("textarea[data-error-position]");
  if (!box) { return; }
  var position = parseInt(box.getAttribute("data-error-position"), 10);
  if (isNaN(position)) { return; }
  position = Math.max(0, Math.min(position, box.value.length));
  box.focus();
  box.setSelectionRange(position, Math.min(position + 1, box.value.length));
})();
