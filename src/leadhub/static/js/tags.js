// Colour tag badges from their data-tag-color (the CSP forbids inline style attributes).
(function () {
  "use strict";

  function textColorFor(hex) {
    var r = parseInt(hex.slice(1, 3), 16);
    var g = parseInt(hex.slice(3, 5), 16);
    var b = parseInt(hex.slice(5, 7), 16);
    return (r * 299 + g * 587 + b * 114) / 1000 > 150 ? "#212529" : "#ffffff";
  }

  function paint(root) {
    root.querySelectorAll("[data-tag-color]").forEach(function (badge) {
      var color = badge.getAttribute("data-tag-color");
      if (!/^#[0-9a-fA-F]{6}$/.test(color)) {
        return;
      }
      // "important": it wins over the text-bg-secondary fallback shown without JavaScript.
      badge.style.setProperty("background-color", color, "important");
      badge.style.setProperty("color", textColorFor(color), "important");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    paint(document);
  });
  // Rows or fragments swapped in by htmx or by live updates (realtime.js) get their colours too.
  document.addEventListener("htmx:afterSwap", function (event) {
    paint(event.target);
  });
  document.addEventListener("leadhub:rows-swapped", function (event) {
    paint(event.detail.root);
  });
})();
