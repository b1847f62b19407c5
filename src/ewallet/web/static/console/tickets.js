// The ticket page's canned-reply picker: "Use" puts the chosen reply's text (already filled
// in for this ticket) into the reply box where the cursor is, instead of reloading the page
// (without JavaScript the same button reloads the page with the text filled in).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("canned-picker")) { return; }
    var box = document.getElementById(form.getAttribute("data-target") || "");
    var select = form.querySelector("select");
    var option = select && select.options[select.selectedIndex];
    if (!box || !option) { return; }
    event.preventDefault();
    var text = option.getAttribute("data-text") || "";
    var start = typeof box.selectionStart === "number" ? box.selectionStart : box.value.length;
    var end = typeof box.selectionEnd === "number" ? box.selectionEnd : box.value.length;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
  });
})();
