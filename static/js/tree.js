// Référentiel tree: a row's disclosure button shows or hides the region of its children; htmx
// loads that region on the first click (see fragments/referentiels/_node_row.html).
document.addEventListener("click", (event) => {
  const toggle = event.target.closest(".tet-tree__toggle");
  if (!toggle) return;
  const region = document.getElementById(toggle.getAttribute("aria-controls"));
  const expanded = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(expanded));
  if (region) region.hidden = !expanded;
});
