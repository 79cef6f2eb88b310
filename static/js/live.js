// Live pages (websocket of a collectivité, see app/live.py).
(function () {
  "use strict";

  // The element an out-of-band fragment replaces: "#<id>" for hx-swap-oob="true" (or a bare swap
  // style), otherwise the selector after the colon ("outerHTML:#x").
  function oobTarget(fragment) {
    var spec = fragment.getAttribute("hx-swap-oob") || "true";
    var colon = spec.indexOf(":");
    if (colon >= 0) return document.querySelector(spec.slice(colon + 1));
    return fragment.id ? document.getElementById(fragment.id) : null;
  }

  // Every page of the collectivité gets every push: drop the fragments of elements this page does
  // not show (a collapsed row, another action) instead of letting htmx raise oobErrorNoTarget.
  htmx.defineExtension("tet-live", {
    transformResponse: function (text) {
      var template = document.createElement("template");
      template.innerHTML = text;
      Array.from(template.content.children).forEach(function (fragment) {
        if (!oobTarget(fragment)) fragment.remove();
      });
      return template.innerHTML;
    },
  });
})();
