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
  /* One request per URL (a second caller gets the same answer); `failed` runs on any error. */
  var requests = {};
  function getJSON(url, done, failed) {
    var r = requests[url];
    if (!r) {
      r = requests[url] = { waiting: [], data: undefined, error: false };
      var xhr = new XMLHttpRequest();
      var finish = function (data, error) {
        r.data = data; r.error = error;
        r.waiting.forEach(function (w) { if (error) { if (w[1]) w[1](); } else { w[0](data); } });
        r.waiting = null;
      };
      xhr.open("GET", url);
      xhr.onload = function () {
        var data;
        try { data = xhr.status === 200 ? JSON.parse(xhr.responseText) : undefined; } catch (e) { data = undefined; }
        finish(data, data === undefined);
      };
      xhr.onerror = function () { finish(undefined, true); };
      xhr.send();
    }
    if (r.waiting) r.waiting.push([done, failed]);
    else if (r.error) { if (failed) failed(); }
    else done(r.data);
  }

  /* Accent- and case-insensitive, "st"/"ste" = "saint"/"sainte", hyphens and apostrophes as spaces. */
  function norm(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[-'’]/g, " ").replace(/\bste\b/g, "sainte").replace(/\bst\b/g, "saint")
      .replace(/\s+/g, " ").trim();
  }

  function setupSearch(form) {
    var input = form.querySelector("input"), list = form.querySelector("ul"), status = form.querySelector(".status");
    var index = null, loading = false, active = -1, results = [];

    function say(text) { status.textContent = text; status.hidden = !text; }
    function load() {
      if (index || loading) return;
      loading = true;
      if (input.value.length >= 2) say("Chargement de la liste des communes…");
      getJSON(form.getAttribute("data-index"), function (rows) {
        index = rows.map(function (r) {
          var dep = r[0].slice(0, r[0].slice(0, 2) === "97" ? 3 : 2);
          return { code: r[0], name: r[1].replace(/'/g, "\u2019"), cps: r[2], dep: dep, key: " " + norm(r[1]) };
        });
        search();
      }, function () {
        loading = false;
        say("La liste des communes n\u2019a pas pu être chargée. Choisissez un département depuis la page d\u2019accueil.");
      });
    }
    function search() {
      if (!index) { if (loading && input.value.length >= 2) say("Chargement de la liste des communes…"); return; }
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
      say(q.length >= 2 && !results.length ? "Aucune commune trouvée pour «\u202f" + input.value.trim() + "\u202f»." : "");
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
        var cps = c.cps.split(" ");  /* a city with several postcodes is shown with its department */
        a.appendChild(el("small", cps.length === 1 && cps[0] ? cps[0] : "département " + c.dep));
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

  /* 1 vente, 2 095 ventes (French takes the singular below two). */
  function count(n, one, many) { return fmt(n) + "\u00a0" + (n < 2 ? one : (many || one + "s")); }

  /* The commune's own figures are in the page; the others come from one small shared file. */
  function setupCompare(box) {
    var own = JSON.parse(box.getAttribute("data-own"));
    var levels = JSON.parse(box.getAttribute("data-levels")), codes = JSON.parse(box.getAttribute("data-codes"));
    var names = { departement: "département", region: "région", france: "" };
    getJSON(box.getAttribute("data-src"), function (summary) {
      var rows = [[own, "commune"]];
      levels.forEach(function (level, i) {
        var place = (summary[level] || {})[codes[i]];
        if (place) rows.push([place, names[level]]);
      });
      draw(rows);
    }, function () {
      box.appendChild(el("p", "La comparaison n\u2019a pas pu être chargée\u202f: les liens ci-dessus mènent aux pages concernées.", "muted"));
    });
    function cell(s) {
      var td = el("td");
      if (s && s.published) { td.appendChild(document.createTextNode(euros(s.median_m2, "/m²"))); td.appendChild(el("small", count(s.n, "vente"))); }
      else { td.textContent = s && s.n ? "non publié (" + count(s.n, "vente") + ")" : "—"; }
      return td;
    }
    function draw(rows) {
      var table = el("table", undefined, "data compare"), head = el("tr");
      table.appendChild(el("caption", "Prix médian au m² (nombre de ventes)"));
      ["", "Appartements", "Maisons"].forEach(function (t) { var th = el("th", t); th.scope = "col"; head.appendChild(th); });
      var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
      var body = el("tbody");
      rows.forEach(function (r) {
        var tr = el("tr"), th = el("th", r[0].nom.replace(/'/g, "\u2019"));
        if (r[1]) th.appendChild(el("small", r[1]));
        th.scope = "row"; tr.appendChild(th);
        tr.appendChild(cell(r[0].appartement));
        tr.appendChild(cell(r[0].maison));
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
      if (!sales.length) { box.appendChild(el("p", "Aucune vente retenue ici.", "muted")); return; }
      var caption = sales.length === 1 ? "La dernière vente retenue (adresse non publiée)"
        : "Les " + fmt(sales.length) + " dernières ventes retenues (adresses non publiées)";
      var table = el("table", undefined, "data recent");
      table.appendChild(el("caption", caption));
      var head = el("tr");
      ["Date", "Bien", "Prix", "Prix au m²"].forEach(function (t) { var th = el("th", t); th.scope = "col"; head.appendChild(th); });
      var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
      var body = el("tbody");
      sales.forEach(function (s) {
        var tr = el("tr"), date = s.date.split("-").reverse().join("/");
        var th = el("th", date); th.scope = "row"; tr.appendChild(th);
        var what = el("td", s.type === "maison" ? "Maison" : "Appartement");
        what.appendChild(el("small", fmt(s.surface) + nbsp + "m²" + (s.pieces ? ", " + count(s.pieces, "pièce") : "")));
        tr.appendChild(what);
        [euros(s.prix), euros(s.prix_m2, "/m²")].forEach(function (t) { tr.appendChild(el("td", t)); });
        body.appendChild(tr);
      });
      table.appendChild(body);
      box.appendChild(scrollable(table, "Dernières ventes"));
    }, function () {
      box.innerHTML = "";
      box.appendChild(el("p", "Les dernières ventes n\u2019ont pas pu être chargées. Réessayez plus tard.", "muted"));
    });
  }


  /* The estimate: quartiles x surface, the median between, rounded to the thousand euros. */
  function setupEstimate(form) {
    var figures = JSON.parse(form.getAttribute("data-figures"));
    var lieu = form.getAttribute("data-lieu"), annees = form.getAttribute("data-annees");
    var seuil = Number(form.getAttribute("data-seuil"));
    var out = form.querySelector(".result");
    form.hidden = false;
    function k(x) { return euros(Math.round(x / 1000) * 1000); }
    function pieces(n) { return n === 1 ? "d\u2019une pièce" : n === 5 ? "de 5 pièces et plus" : "de " + n + " pièces"; }
    function line(parts) {
      var p = el("p");
      parts.forEach(function (part) { p.appendChild(typeof part === "string" ? document.createTextNode(part) : part); });
      out.appendChild(p);
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var checked = form.querySelector("input[name=type]:checked");
      var typ = checked ? checked.value : Object.keys(figures)[0], f = figures[typ];
      var raw = form.elements.surface.value.replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
      var surface = Number(raw);
      out.innerHTML = "";
      if (!raw || !isFinite(surface) || surface < 9 || surface > 1000) {
        line(["Indiquez une surface comprise entre 9 et 1" + nbsp + "000\u00a0m²" + nbsp + ": seules les ventes dans cet intervalle sont retenues."]);
        out.firstChild.className = "error";
        return;
      }
      var house = typ === "maison", kind = house ? "maisons" : "appartements";
      var area = String(Math.round(surface * 10) / 10).replace(".", ",") + "\u00a0m²";
      line(["Pour " + area + " " + lieu + ", aux prix au m² des " + kind + " vendu" + (house ? "es " : "s ") + annees + nbsp + ": ",
        el("strong", "entre " + k(f.q1 * surface) + " et " + k(f.q3 * surface)),
        " pour la moitié centrale des ventes" + nbsp + "; " + k(f.median * surface) + " au prix médian."]);
      line(["Sur " + count(f.n, "vente") + (house ? " de maisons" : " d\u2019appartements") + nbsp + ": un quart sous "
        + euros(f.q1, "/m²") + ", la moitié sous " + euros(f.median, "/m²") + ", trois quarts sous " + euros(f.q3, "/m²")
        + ". Montants arrondis au millier d\u2019euros."]);
      var n = Number(form.elements.pieces.value);
      var group = n ? f.pieces[n - 1] : null;
      var label = (house ? "Maisons " : "Appartements ") + pieces(n);
      if (group && group[2] !== null) {
        line([label + nbsp + ": prix médian de " + euros(group[2], "/m²") + " (" + count(group[1], "vente") + "), soit "
          + k(group[2] * surface) + " pour " + area + "."]);
      } else if (group && group[1]) {
        line(["Trop peu de ventes " + (house ? "de maisons " : "d\u2019appartements ") + pieces(n) + " (" + count(group[1], "vente")
          + ") pour publier un prix médian" + nbsp + ": il en faut au moins " + fmt(seuil) + "."]);
      } else if (group) {
        line(["Aucune vente " + (house ? "de maison " : "d\u2019appartement ") + pieces(n) + " " + lieu + " " + annees + "."]);
      }
    });
  }

  /* A department's communes: one table that sorts by any column, filters by name and shows
     50 rows at a time (the page sends them all, most sales first, for readers without script). */
  function setupExplorer(box) {
    var main = box.querySelector("table.explore"), body = main.tBodies[0];
    var rows = [].slice.call(box.querySelectorAll("table.explore tbody tr"));
    var more = box.querySelector("details.more");
    if (more) more.parentNode.removeChild(more);
    rows.forEach(function (r) { r._key = " " + norm(r.cells[0].textContent); r._name = r.cells[0].textContent; body.appendChild(r); });
    var unit = box.getAttribute("data-unit"), step = 50, shown = step, order = "n", desc = true, query = "";
    var id = "filtre-" + unit, label = el("label", "Filtrer par nom"), input = el("input");
    label.htmlFor = id; input.id = id; input.type = "search"; input.autocomplete = "off";
    var tools = el("p", undefined, "filter"); tools.appendChild(label); tools.appendChild(document.createTextNode(" ")); tools.appendChild(input);
    var status = el("p", "", "sub"); status.setAttribute("role", "status");
    var next = el("button", "", "next"); next.type = "button";
    var intro = box.querySelector("p.sub");
    box.insertBefore(tools, intro.nextSibling);
    box.insertBefore(status, tools.nextSibling);
    box.appendChild(next);
    var heads = [].slice.call(main.tHead.rows[0].cells);
    heads.forEach(function (th) {
      var key = th.getAttribute("data-key"), b = el("button", undefined, "sort");
      b.type = "button";
      while (th.firstChild) b.appendChild(th.firstChild);
      th.appendChild(b);
      b.addEventListener("click", function () {
        if (order === key) desc = !desc; else { order = key; desc = key !== "nom"; }
        shown = step; draw();
      });
    });
    function value(r, key) {
      var v = r.getAttribute("data-" + key);
      return v === "" || v === null ? null : Number(v);
    }
    function compare(a, b) {
      if (order !== "nom") {
        var x = value(a, order), y = value(b, order);
        if (x !== y) {
          if (x === null) return 1;
          if (y === null) return -1;
          return desc ? y - x : x - y;
        }
      }
      var c = a._name.localeCompare(b._name, "fr");
      return order === "nom" && desc ? -c : c;
    }
    function draw() {
      var list = rows.filter(function (r) { return !query || r._key.indexOf(" " + query) >= 0; }).sort(compare);
      body.innerHTML = "";
      list.slice(0, shown).forEach(function (r) { body.appendChild(r); });
      heads.forEach(function (th) {
        if (th.getAttribute("data-key") === order) th.setAttribute("aria-sort", desc ? "descending" : "ascending");
        else th.removeAttribute("aria-sort");
      });
      var total = rows.length, fem = unit === "commune", shownNow = Math.min(shown, list.length);
      status.textContent = !list.length ? "Aucun" + (fem ? "e " : " ") + unit + " ne correspond à «" + nbsp + input.value.trim() + nbsp + "»."
        : query ? count(list.length, unit) + " sur " + fmt(total) + "."
        : list.length > shown ? (fem ? "Les " + fmt(shownNow) + " premières sont affichées." : "Les " + fmt(shownNow) + " premiers sont affichés.")
        : count(total, unit) + ".";
      var rest = list.length - shown;
      next.hidden = rest <= 0;
      next.textContent = rest > step ? "Afficher " + fmt(step) + " " + unit + "s de plus (" + fmt(rest) + " restant" + (fem ? "es" : "s") + ")"
        : rest > 1 ? "Afficher les " + fmt(rest) + " dernier" + (fem ? "es " : "s ") + unit + "s"
        : "Afficher " + (fem ? "la dernière " : "le dernier ") + unit;
    }
    next.addEventListener("click", function () { shown += step; draw(); });
    input.addEventListener("input", function () { query = norm(input.value); shown = step; draw(); });
    draw();
  }

  var form = document.querySelector("form.search");
  if (form) { form.querySelector(".status").hidden = true; setupSearch(form); }
  var compare = document.getElementById("compare");
  if (compare) setupCompare(compare);
  var recent = document.getElementById("recent-sales");
  if (recent) setupRecent(recent);
  var estimate = document.getElementById("estimation");
  if (estimate) setupEstimate(estimate);
  [].forEach.call(document.querySelectorAll(".explorer"), setupExplorer);
})();
