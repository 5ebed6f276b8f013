// The index page's search: shows the form (hidden without JavaScript, where the A to Z lists are the way in),
// reads the search index named by the form's data-index, and lists the partnerships whose name, schools, towns
// or postcodes contain what is typed, in the aria-live region below the form. Words come from the form's data-*
// attributes (the message catalogue), and every text is set with textContent, never as HTML.
(function () {
  "use strict";
  var form = document.querySelector("form[role=search]");
  var out = document.getElementById("search-results");
  if (!form || !out || !window.fetch || !form.getAttribute("data-index")) { return; }
  var input = form.querySelector("input");
  var entries = [];
  var timer = null;
  var MAX = 20;

  function fold(text) {
    return String(text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }
  function compact(text) { return fold(text).replace(/\s+/g, ""); }
  function words(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function matches(entry, query, tight) {
    var schools = (entry.schools || []).filter(function (s) { return fold(s).indexOf(query) >= 0; });
    var hit = fold(entry.name).indexOf(query) >= 0 || schools.length > 0 ||
      (entry.towns || []).some(function (t) { return fold(t).indexOf(query) >= 0; }) ||
      (tight.length >= 2 && (entry.postcodes || []).some(function (p) { return compact(p).indexOf(tight) >= 0; }));
    return hit ? { entry: entry, schools: schools } : null;
  }

  function show() {
    var query = fold(input.value).trim();
    out.textContent = "";
    if (!query) { return; }
    var tight = compact(input.value);
    var found = entries.map(function (e) { return matches(e, query, tight); }).filter(Boolean);
    var said = document.createElement("p");
    said.textContent = found.length === 0 ? words(form.getAttribute("data-none"), { query: input.value.trim() })
      : words(form.getAttribute(found.length === 1 ? "data-found-one" : "data-found-other"), { n: found.length });
    out.appendChild(said);
    if (!found.length) { return; }
    var list = document.createElement("ul");
    found.slice(0, MAX).forEach(function (f) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = f.entry.url;
      link.textContent = f.entry.name;
      item.appendChild(link);
      var detail = document.createElement("span");
      detail.className = "entry-detail";
      var parts = [(f.entry.towns || []).join(", "), f.entry.year];
      if (f.schools.length) { parts.push(form.getAttribute("data-schools") + " " + f.schools.join(", ")); }
      detail.textContent = parts.filter(Boolean).join(" · ");
      item.appendChild(detail);
      list.appendChild(item);
    });
    out.appendChild(list);
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); show(); });
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(show, 150);  // one announcement when typing pauses, not one per letter
  });
  fetch(form.getAttribute("data-index"), { credentials: "same-origin" })
    .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
    .then(function (data) {
      entries = Array.isArray(data) ? data : [];
      form.hidden = false;
      if (input.value) { show(); }
    })
    .catch(function () { /* no index: the form stays hidden and the lists below still work */ });
}());
