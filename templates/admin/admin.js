// paperboy admin: live progress on a run's page. Without it the page reloads itself (a <noscript> refresh); with it,
// the figures follow GET /admin/send/<id> (JSON) until the run is done, then the page reloads once for the full report.
(function () {
  var root = document.querySelector('[data-run-id]');
  if (!root || root.getAttribute('data-status') !== 'running') return;
  var id = root.getAttribute('data-run-id');
  function set(name, value) {
    var el = root.querySelector('[data-field="' + name + '"]');
    if (el) el.textContent = String(value);
  }
  function tick() {
    fetch('/admin/send/' + encodeURIComponent(id), { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (run) {
        if (!run) return void setTimeout(tick, 2000);
        var c = run.counts || {};
        var done = (c.sent || 0) + (c.failed || 0) + (c.bounced || 0) + (c.unknown || 0);
        // planned is written when planning ends; until then the run's rows so far are what it will send.
        var expected = run.planned || Math.max(0, (c.total || 0) - (c.skipped || 0));
        set('done', done);
        set('expected', expected);
        set('planned-figure', expected);
        set('sent', c.sent || 0);
        set('failed', (c.failed || 0) + (c.bounced || 0) + (c.unknown || 0));
        set('waiting', (c.queued || 0) + (c.sending || 0));
        set('skipped', run.skipped || 0);
        set('status', run.status);
        var bar = root.querySelector('progress');
        if (bar && expected > 0) { bar.max = expected; bar.value = done; }
        if (run.status !== 'running') location.reload();
        else setTimeout(tick, 500);
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 250);
})();
