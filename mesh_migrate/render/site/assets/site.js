// mesh-migrate review site: search and filters over the index page. The site reads
// without this script; it only hides what does not match.
(function () {
  "use strict";

  // "/" focuses the search box, as on many sites; not while typing in a field.
  document.addEventListener("keydown", function (event) {
    var tag = (event.target && event.target.tagName) || "";
    if (event.key === "/" && !/^(INPUT|SELECT|TEXTAREA)$/.test(tag)) {
      var box = document.getElementById("q") || document.getElementById("site-q");
      if (box) { event.preventDefault(); box.focus(); }
    }
  });

  var index = document.getElementById("index");
  var form = document.getElementById("filters");
  if (!index || !form) { return; }
  var rows = Array.prototype.slice.call(index.tBodies[0].rows);
  var fields = { q: form.elements.q, type: form.elements.type, kind: form.elements.kind, wave: form.elements.wave };
  var shown = document.getElementById("shown");

  var params = new URLSearchParams(window.location.search);
  Object.keys(fields).forEach(function (name) {
    var value = params.get(name);
    if (value !== null) { fields[name].value = value; }
  });
  var header = document.getElementById("site-q");
  if (header && params.get("q") !== null) { header.value = params.get("q"); }

  function matches(row, words) {
    var data = row.dataset;
    if (fields.type.value && data.type !== fields.type.value) { return false; }
    if (fields.kind.value && data.kinds.split(" ").indexOf(fields.kind.value) < 0) { return false; }
    if (fields.wave.value && data.waves.split(" ").indexOf(fields.wave.value) < 0) { return false; }
    return words.every(function (word) { return data.text.indexOf(word) >= 0; });
  }

  function apply() {
    var words = fields.q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    rows.forEach(function (row) {
      var keep = matches(row, words);
      row.hidden = !keep;
      if (keep) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
  }

  form.hidden = false;
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  // On this page the header's box filters in place instead of reloading.
  var headerForm = header && header.form;
  if (headerForm) {
    headerForm.addEventListener("submit", function (event) {
      event.preventDefault();
      fields.q.value = header.value;
      apply();
      fields.q.focus();
    });
  }
  apply();
  if (params.get("q")) { fields.q.focus(); }
}());
