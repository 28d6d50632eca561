// Small comforts only; every page works without this script.
document.addEventListener("submit", function (e) {
  var b = e.target.querySelector("button[type=submit], button:not([type])");
  if (b && !e.target.hasAttribute("data-no-lock")) { setTimeout(function () { b.disabled = true; }, 0); }
});
