/*
 * Kennisbank page (rendered by regelhulp/web/kennisbank.py): search by keyword and filter by theme and
 * by status group, in the browser. The page is complete without this script (every entry shown,
 * the controls hidden); the script only shows the controls and hides what does not match.
 *
 * Search: every word must occur (case and accents ignored) in the visible text of an entry.
 * Theme: only the entries of that theme. Status group: in every entry, only the shared answer and
 * the answer (and planned change) for that group; entries with one shared answer stay visible.
 * Needs review: only the entries marked data-review (a passed date, a changed source, an old check).
 */
(function () {
  "use strict";

  function fold(text) {
    return String(text).toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function visibleText(node) {
    // the text of NODE without the parts that are hidden (skips [hidden] subtrees)
    var walker = document.createTreeWalker(node, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        return n.nodeType === 1 && n.hasAttribute("hidden") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      },
    });
    var parts = [];
    while (walker.nextNode()) {
      if (walker.currentNode.nodeType === 3) parts.push(walker.currentNode.nodeValue);
    }
    return parts.join(" ");
  }

  function countText(shown, total) {
    if (shown === total) return "Alle " + total + " regels worden getoond.";
    return shown + " van de " + total + " regels " + (shown === 1 ? "wordt" : "worden") + " getoond.";
  }

  function init() {
    var controls = document.getElementById("kb-filters");
    var search = document.getElementById("kb-search");
    var theme = document.getElementById("kb-theme");
    var status = document.getElementById("kb-status");
    var review = document.getElementById("kb-review");
    var count = document.getElementById("kb-count");
    var empty = document.getElementById("kb-empty");
    if (!controls || !search || !theme || !status) return;
    var entries = Array.prototype.slice.call(document.querySelectorAll(".kb-entry"));
    var sections = Array.prototype.slice.call(document.querySelectorAll(".kb-theme"));

    function apply() {
      var words = fold(search.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      entries.forEach(function (entry) {
        entry.querySelectorAll("[data-status]").forEach(function (part) {
          part.hidden = status.value !== "" && part.getAttribute("data-status").split(" ").indexOf(status.value) < 0;
        });
        var text = fold(visibleText(entry));
        var match = (theme.value === "" || entry.getAttribute("data-theme") === theme.value) &&
          (!review || !review.checked || entry.hasAttribute("data-review")) &&
          words.every(function (word) { return text.indexOf(word) >= 0; });
        entry.hidden = !match;
        if (match) shown += 1;
      });
      sections.forEach(function (section) {
        section.hidden = !section.querySelector(".kb-entry:not([hidden])");
      });
      count.textContent = countText(shown, entries.length);
      empty.hidden = shown > 0;
    }

    search.addEventListener("input", apply);
    theme.addEventListener("change", apply);
    status.addEventListener("change", apply);
    if (review) review.addEventListener("change", apply);
    controls.hidden = false;
    apply();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
