// paperboy admin: live progress of a send run. The run page works without it (it says to reload); with it, the
// figures refresh from /admin/send/<id> until the run is done, then the page reloads once to show the final report.
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
        if (!run) return setTimeout(tick, 2000);
        var c = run.counts || {};
        var done = (c.sent || 0) + (c.failed || 0) + (c.bounced || 0) + (c.unknown || 0);
        set('sent', c.sent || 0);
        set('failed', (c.failed || 0) + (c.bounced || 0));
        set('waiting', (c.queued || 0) + (c.sending || 0));
        set('skipped', run.skipped || 0);
        set('planned', run.planned || 0);
        set('status', run.status);
        var bar = root.querySelector('progress');
        if (bar && run.planned > 0) { bar.max = run.planned; bar.value = done; }
        if (run.status !== 'running') location.reload();
        else setTimeout(tick, 700);
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 300);
})();
