// Progressive enhancement for the share bar: a copy button and the system share sheet,
// shown only where the browser offers them. Without JavaScript the plain links still work.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = button.closest(".share__copy").querySelector(".share__status");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(
        function () { status.textContent = "Link copied."; },
        function () { input.select(); status.textContent = "Press Ctrl+C to copy the selected link."; }
      );
    });
  });
  if (!navigator.share) return;
  document.querySelectorAll("[data-native-share]").forEach(function (item) {
    var button = item.querySelector("button");
    item.hidden = false;
    button.addEventListener("click", function () {
      navigator.share({ title: button.dataset.title, url: button.dataset.url }).catch(function () {});
    });
  });
})();
