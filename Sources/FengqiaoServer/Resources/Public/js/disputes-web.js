// Filters a long address picker by what the user types; the form works without it.
document.querySelectorAll("input.dw-filter").forEach(function (box) {
  var select = document.getElementById(box.getAttribute("data-filter"));
  if (!select) { return; }
  box.hidden = false;
  var all = Array.prototype.slice.call(select.options);
  box.addEventListener("input", function () {
    var q = box.value.trim();
    all.forEach(function (o, i) { o.hidden = i > 0 && q !== "" && o.text.indexOf(q) < 0; });
  });
});
