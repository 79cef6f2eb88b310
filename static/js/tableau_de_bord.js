// Tableaux de bord: when a score push marks a référentiel as re-scored (#tableau_de_bord-changed-<id>
// swapped out of band, see app/fragments.py), re-fetch the page's regions showing that référentiel
// (data-tableau-de-bord-refresh lists their référentiel ids; their hx-* attributes say how).
(function () {
  "use strict";

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var marker = event.detail.target;
    if (!marker || !marker.id || marker.id.indexOf("tableau_de_bord-changed-") !== 0) return;
    var referentiel = marker.dataset.referentiel;
    document.querySelectorAll("[data-tableau-de-bord-refresh]").forEach(function (region) {
      if (region.dataset.tableauDeBordRefresh.split(" ").indexOf(referentiel) >= 0) {
        htmx.trigger(region, "tableau-de-bord-refresh");
      }
    });
  });
})();
