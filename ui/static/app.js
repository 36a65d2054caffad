// hookd dashboard: the only script. Pages work without it; it adds
// copy-to-clipboard buttons (data-copy="<id of the element to copy>").
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (!b) return;
  var el = document.getElementById(b.getAttribute("data-copy"));
  if (el && navigator.clipboard) {
    navigator.clipboard.writeText(el.textContent).then(function () { b.textContent = "Copied"; });
  }
});
