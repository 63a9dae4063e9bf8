/* ImmoStats: commune search (static index), comparison with department/region/France,
   recent sales loaded from /data/ (kept out of indexable HTML). No external request. */
(function () {
  "use strict";

  var nbsp = "\u202f";
  function fmt(n) { return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, nbsp); }
  function euros(n, unit) { return n === null || n === undefined ? "—" : fmt(n) + nbsp + "€" + (unit || ""); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  /* A table that may scroll sideways on a phone: focusable and named, for keyboard users. */
  function scrollable(table, label) {
    var wrap = el("div", undefined, "scroll");
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", label);
    wrap.appendChild(table);
    return wrap;
  }
  function getJSON(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.onload = function () { if (xhr.status === 200) { try { done(JSON.parse(xhr.responseText)); } catch (e) { /* keep fallback */ } } };
    xhr.send();
  }

  /* Accent- and case-insensitive, "st"/"ste" = "saint"/"sainte", hyphens and apostrophes as spaces. */
  function norm(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[-'’]/g, " ").replace(/\bste\b/g, "sainte").replace(/\bst\b/g, "saint")
      .replace(/\s+/g, " ").trim();
  }

  function setupSearch(form) {
    var input = form.querySelector("input"), list = form.querySelector("ul");
    var index = null, loading = false, active = -1, results = [];

    function load() {
      if (index || loading) return;
      loading = true;
      getJSON(form.getAttribute("data-index"), function (rows) {
        index = rows.map(function (r) { return { code: r[0], name: r[1], cps: r[2], dep: r[3], key: " " + norm(r[1]) }; });
        search();
      });
    }
    function search() {
      if (!index) return;
      var q = norm(input.value);
      results = [];
      if (q.length >= 2) {
        var digits = /^[0-9][0-9ab]*$/i.test(q), starts = [], words = [];
        for (var i = 0; i < index.length && starts.length < 8; i++) {
          var c = index[i];
          if (digits) {
            if (c.code.toLowerCase().indexOf(q) === 0 || c.cps.split(" ").some(function (p) { return p.indexOf(q) === 0; })) starts.push(c);
          } else if (c.key.indexOf(" " + q) === 0) { starts.push(c); }
          else if (words.length < 8 && c.key.indexOf(" " + q) > 0) { words.push(c); }
        }
        results = starts.concat(words).slice(0, 8);
      }
      draw();
    }
    function draw() {
      list.innerHTML = "";
      active = results.length ? 0 : -1;
      results.forEach(function (c, i) {
        var li = el("li"), a = el("a");
        li.setAttribute("role", "option");
        li.id = "q-opt-" + i;
        li.setAttribute("aria-selected", i === active ? "true" : "false");
        a.href = "/ville/" + c.code + "/";
        a.appendChild(document.createTextNode(c.name + " "));
        a.appendChild(el("small", (c.cps.split(" ")[0] || c.code) + " · " + c.dep));
        li.appendChild(a);
        list.appendChild(li);
      });
      var open = results.length > 0;
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) input.setAttribute("aria-activedescendant", "q-opt-0"); else input.removeAttribute("aria-activedescendant");
    }
    function move(step) {
      if (!results.length) return;
      active = (active + step + results.length) % results.length;
      Array.prototype.forEach.call(list.children, function (li, i) { li.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", "q-opt-" + active);
    }
    input.addEventListener("focus", load);
    input.addEventListener("input", function () { load(); search(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
      else if (e.key === "Escape") { results = []; draw(); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (results.length) window.location.href = "/ville/" + results[Math.max(active, 0)].code + "/";
    });
  }

  function setupCompare(box) {
    var levels = JSON.parse(box.getAttribute("data-levels"));
    var own = document.getElementById("recent-sales");
    var rows = [["commune", own ? own.getAttribute("data-src") : null],
      ["département", levels.departement], ["région", levels.region], ["", levels.france]];
    var docs = {}, pending = rows.length;
    rows.forEach(function (r) {
      if (!r[1]) { pending--; return; }
      getJSON(r[1], function (d) { docs[r[0]] = d; if (--pending === 0) draw(); });
    });
    function cell(s) {
      var td = el("td");
      if (s && s.published) { td.appendChild(document.createTextNode(euros(s.median_m2, "/m²"))); td.appendChild(el("small", s.n + " ventes")); }
      else { td.textContent = "non publié"; }
      return td;
    }
    function draw() {
      var table = el("table", undefined, "data compare"), head = el("tr");
      table.appendChild(el("caption", "Prix médian au m² (nombre de ventes)"));
      ["", "Appartements", "Maisons"].forEach(function (t) { var th = el("th", t); th.scope = "col"; head.appendChild(th); });
      var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
      var body = el("tbody");
      rows.forEach(function (r) {
        var d = docs[r[0]];
        if (!d) return;
        var tr = el("tr"), th = el("th", d.metadata.nom);
        if (r[0]) th.appendChild(el("small", r[0]));
        th.scope = "row"; tr.appendChild(th);
        tr.appendChild(cell(d.current_stats.appartement));
        tr.appendChild(cell(d.current_stats.maison));
        body.appendChild(tr);
      });
      table.appendChild(body);
      box.appendChild(scrollable(table, "Comparaison des prix"));
    }
  }

  function setupRecent(box) {
    getJSON(box.getAttribute("data-src"), function (d) {
      var sales = d.transactions_recent || [];
      box.innerHTML = "";
      if (!sales.length) { box.appendChild(el("p", "Aucune vente retenue dans cette commune.", "muted")); return; }
      var table = el("table", undefined, "data");
      table.appendChild(el("caption", "Les " + sales.length + " ventes les plus récentes retenues (sans adresse)"));
      var head = el("tr");
      ["Date", "Bien", "Prix", "Prix au m²"].forEach(function (t) { var th = el("th", t); th.scope = "col"; head.appendChild(th); });
      var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
      var body = el("tbody");
      sales.forEach(function (s) {
        var tr = el("tr"), date = s.date.split("-").reverse().join("/");
        var th = el("th", date); th.scope = "row"; tr.appendChild(th);
        var what = el("td", s.type === "maison" ? "Maison" : "Appartement");
        what.appendChild(el("small", fmt(s.surface) + nbsp + "m²" + (s.pieces ? ", " + s.pieces + " p." : "")));
        tr.appendChild(what);
        [euros(s.prix), euros(s.prix_m2, "/m²")].forEach(function (t) { tr.appendChild(el("td", t)); });
        body.appendChild(tr);
      });
      table.appendChild(body);
      box.appendChild(scrollable(table, "Dernières ventes"));
    });
  }

  var form = document.querySelector("form.search");
  if (form) setupSearch(form);
  var compare = document.getElementById("compare");
  if (compare) setupCompare(compare);
  var recent = document.getElementById("recent-sales");
  if (recent) setupRecent(recent);
})();
