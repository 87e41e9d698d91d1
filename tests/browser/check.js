// Appended to a copy of a memscan report page by tests/browser.rs, after the page's own
// script, and run by headless Chromium at 1280 px. It measures the layout, clicks every
// numeric header of every sortable table twice (ascending, then descending) and checks the
// order, and writes what it found as JSON into <pre id="memscan-browser-test">.
(function () {
  var out = {
    errors: (window.__memscanErrors || []).slice(),
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    textWidth: null,
    tables: 0,
    sorts: []
  };
  var th = document.querySelector('th[data-col="text"]');
  if (th) out.textWidth = th.getBoundingClientRect().width;
  function column(t, i) {
    return Array.from(t.tBodies[0].rows).map(function (r) { return r.cells[i].dataset.v; });
  }
  function ordered(v, asc) {
    var seenEmpty = false;
    for (var k = 0; k < v.length; k++) {
      if (v[k] === '') { seenEmpty = true; continue; }
      if (seenEmpty) return false; // empty cells sort last
      if (k > 0 && v[k - 1] !== '' && (asc ? Number(v[k - 1]) > Number(v[k]) : Number(v[k - 1]) < Number(v[k]))) return false;
    }
    return true;
  }
  document.querySelectorAll('table.sortable').forEach(function (t, n) {
    out.tables++;
    var heads = t.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) {
      var before = column(t, i);
      if (before.length === 0 || before.some(function (v) { return v === undefined; })) continue;
      heads[i].click();
      var asc = column(t, i), ascAttr = heads[i].getAttribute('aria-sort');
      heads[i].click();
      var desc = column(t, i), descAttr = heads[i].getAttribute('aria-sort');
      out.sorts.push({
        table: t.id || String(n),
        column: heads[i].textContent,
        rows: asc.length,
        ascending: ordered(asc, true) && ascAttr === 'ascending',
        descending: ordered(desc, false) && descAttr === 'descending',
        kept: asc.slice().sort().join('|') === before.slice().sort().join('|')
      });
    }
  });
  var pre = document.createElement('pre');
  pre.id = 'memscan-browser-test';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
