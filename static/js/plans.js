// Plans pages: when the websocket says the collectivité's plans changed (#plans-changed swapped
// out of band, see fragments.publish_plans_changed), re-fetch the page's live part (#plans-live,
// through #plans-refresh's hx-* attributes) — unless the change came from this page (its requests name it in a header),
// or, when the answer comes, the user is typing in it, has an edit form open, has changed a value
// not yet sent, or it shows a refused value's message.
(function () {
  "use strict";
  var pageId = Math.random().toString(36).slice(2);

  function busy(content) {
    var active = document.activeElement;
    var typing = active && content.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
    var editing = content.querySelector("details[open]") !== null;  // an edit form the user opened
    return typing || editing || changed(content) || content.querySelector(".fr-error-text") !== null;
  }

  // A value the user chose but has not sent yet (e.g. a kanban column picked, then focus moved away).
  function changed(content) {
    return Array.prototype.some.call(content.querySelectorAll("input, textarea, select"), function (field) {
      if (field.tagName === "SELECT") {  // with no option marked selected, the first one is the default
        var marked = Array.prototype.findIndex.call(field.options, function (o) { return o.defaultSelected; });
        return field.selectedIndex !== Math.max(marked, 0);
      }
      if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
      return field.type !== "hidden" && field.value !== field.defaultValue;
    });
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-Plans-Page"] = pageId;
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var content = document.getElementById("plans-live");
    var slot = document.getElementById("plans-changed");  // the pushed element, swapped in
    var pushed = event.detail.target && event.detail.target.id === "plans-changed";
    if (content && pushed && slot && slot.dataset.origin !== pageId) {
      htmx.trigger("#plans-refresh", "plans-refresh");
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var content = event.detail.target;  // (detail.elt is the target too here: htmx reports the swapped element)
    if (content && content.id === "plans-live" && busy(content)) {
      event.detail.shouldSwap = false;
    }
  });
})();
