"use strict";
(function () {
  var table = document.getElementById("findings");
  var rows = table ? Array.prototype.slice.call(table.querySelectorAll("tr.finding")) : [];
  var controls = {
    category: document.getElementById("filter-category"),
    severity: document.getElementById("filter-severity"),
    file: document.getElementById("filter-file")
  };
  var shown = document.getElementById("shown-count");

  function details(row) {
    var next = row.nextElementSibling;
    return next && next.classList.contains("details") ? next : null;
  }

  function apply() {
    var visible = 0;
    rows.forEach(function (row) {
      var ok = ["category", "severity", "file"].every(function (key) {
        var want = controls[key] ? controls[key].value : "";
        return !want || row.dataset[key] === want;
      });
      row.hidden = !ok;
      var d = details(row);
      if (d && !ok) { d.hidden = true; }
      if (ok) { visible += 1; }
    });
    if (shown) { shown.textContent = String(visible); }
    return visible;
  }

  Object.keys(controls).forEach(function (key) {
    if (controls[key]) { controls[key].addEventListener("change", apply); }
  });
  rows.forEach(function (row) {
    row.addEventListener("click", function () {
      var d = details(row);
      if (d) { d.hidden = !d.hidden; }
    });
  });
  apply();

  // Self-test, run by the test suite in headless Chromium: exercises the
  // filters and writes the outcome into the page.
  if (location.hash !== "#weir-selftest") { return; }
  var log = [];
  var failed = false;
  function check(name, cond) { log.push((cond ? "ok   " : "FAIL ") + name); if (!cond) { failed = true; } }
  function set(key, value) {
    controls[key].value = value;
    controls[key].dispatchEvent(new Event("change"));
  }
  function visibleRows() { return rows.filter(function (r) { return !r.hidden; }); }
  check("rows rendered", rows.length > 0);
  check("all rows shown at first", visibleRows().length === rows.length);
  ["category", "severity", "file"].forEach(function (key) {
    var options = Array.prototype.slice.call(controls[key].options).map(function (o) { return o.value; }).filter(Boolean);
    options.forEach(function (value) {
      set(key, value);
      var expected = rows.filter(function (r) { return r.dataset[key] === value; }).length;
      var seen = visibleRows();
      check(key + "=" + value + " shows " + expected, seen.length === expected &&
        seen.every(function (r) { return r.dataset[key] === value; }) && shown.textContent === String(expected));
    });
    set(key, "");
  });
  var first = rows[0];
  set("category", first.dataset.category);
  set("severity", first.dataset.severity);
  set("file", first.dataset.file);
  check("combined filters", visibleRows().every(function (r) {
    return r.dataset.category === first.dataset.category && r.dataset.severity === first.dataset.severity &&
      r.dataset.file === first.dataset.file;
  }) && visibleRows().length >= 1);
  set("category", ""); set("severity", ""); set("file", "");
  check("reset shows all", visibleRows().length === rows.length);
  first.click();
  check("a click opens the details", details(first) && !details(first).hidden);
  first.click();
  check("a second click closes them", details(first) && details(first).hidden);
  var errors = window.__weirErrors || [];
  check("no console errors (" + errors.join(" | ") + ")", errors.length === 0);
  var out = document.getElementById("weir-selftest");
  out.dataset.status = failed ? "fail" : "pass";
  out.textContent = "WEIR-SELFTEST " + (failed ? "FAIL" : "PASS") + "\n" + log.join("\n");
  out.hidden = false;
})();
