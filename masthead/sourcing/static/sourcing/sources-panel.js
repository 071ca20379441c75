// The article editor's "Sources" tab (masthead/sourcing/panels.py).
// 1. Links to a place ("paragraph 12") switch to the tab holding that field or block, scroll to
//    it and focus its first editable control. Without this script they still work as Wagtail
//    "#:w:contentpath=" addresses when the edit page is (re)loaded.
// 2. After each autosave, the panel's body is reloaded: autosave overwrites the latest revision,
//    and the server has analysed it again.
(function () {
  "use strict";

  function target(path) {
    var selector = path
      .split(".")
      .filter(Boolean)
      .map(function (part) {
        return '[data-contentpath="' + (window.CSS && CSS.escape ? CSS.escape(part) : part) + '"]';
      })
      .join(" ");
    return selector ? document.querySelector(selector) : null;
  }

  function showTabHolding(element) {
    var panel = element.closest('[role="tabpanel"]');
    if (!panel || !panel.hidden) return;
    var tab = document.querySelector('[role="tab"][aria-controls="' + panel.id + '"]');
    if (tab) tab.click();
  }

  function focusPlace(path) {
    var element = target(path);
    if (!element) return false;
    showTabHolding(element);
    // The tab switch renders and may scroll on its own; keep bringing the place into view until
    // it is laid out and stays visible (bounded: about a second and a half).
    var tries = 0, waits = 0;
    function settle() {
      waits += 1;
      var box = element.getBoundingClientRect();
      var visible = box.height > 0 && box.bottom > 0 && box.top < window.innerHeight;
      if (box.height > 0 && !visible) element.scrollIntoView({ block: "center" });
      if (box.height > 0 && tries === 0) {
        var control = element.querySelector('[contenteditable="true"], textarea, input:not([type="hidden"])');
        (control || element).focus({ preventScroll: true });
      }
      if (box.height > 0) tries += 1;
      if (tries < 6 && waits < 30) window.setTimeout(settle, box.height > 0 ? 100 : 50);
    }
    window.setTimeout(settle, 0);
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-sourcing-focus]");
    if (link && focusPlace(link.getAttribute("data-sourcing-focus"))) {
      event.preventDefault();
    }
  });

  var refreshing = null;
  document.addEventListener("w-autosave:success", function () {
    var panel = document.querySelector("[data-sourcing-panel][data-sourcing-refresh-url]");
    if (!panel) return;
    if (refreshing) refreshing.abort();
    refreshing = new AbortController();
    fetch(panel.getAttribute("data-sourcing-refresh-url"), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      signal: refreshing.signal,
    })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) panel.innerHTML = html;
      })
      .catch(function () {});
  });
})();
