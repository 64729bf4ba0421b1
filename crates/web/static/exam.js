/* xcert exam pages. Every page works without this script (plain form posts); it adds:
 * - the theory exam: autosave to the API (on change, debounced, and every 30 s) with
 *   retry and backoff, a countdown from the server's remaining time, auto-submit at 0,
 *   a submit confirmation listing unanswered items, up/down buttons for ordering items;
 * - the examiner's tablet page: descriptor buttons set the points, a live total;
 * - the schedule form: only the chosen certificate's forms and tasks are offered;
 * - the registration list: filter as you type, tick all.
 * Plain ES5 so that older tablets run it. */
(function () {
  'use strict';

  function all(sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  }
  function one(sel, root) {
    return (root || document).querySelector(sel);
  }
  function pad(n) {
    return (n < 10 ? '0' : '') + n;
  }
  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    s = s % 60;
    return h > 0 ? h + ':' + pad(m) + ':' + pad(s) : pad(m) + ':' + pad(s);
  }
  function timeOfDay(d) {
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  // ---------------------------------------------------------------------------------
  // The theory exam

  function examPage(form) {
    var id = form.getAttribute('data-attempt');
    var csrf = form.elements.csrf.value;
    var text = function (k) { return form.getAttribute('data-t-' + k) || ''; };
    var status = one('#save-status');
    var timer = one('#exam-timer');
    var items = all('.exam-q', form);
    var base = {};          // position → what the server has: {v: response, s: its JSON}
    var busy = false;       // a save is in flight
    var done = false;       // submitted (or submitting): no more saves
    var backoff = 0;
    var retryTimer = null, debounceTimer = null;
    var deadline = Date.now() + Number(timer.getAttribute('data-remaining-ms') || 0);

    function show(msg, cls) {
      status.textContent = msg;
      status.className = cls || '';
    }

    /* The response an item's fields hold, in the API's JSON shape. Field names and the
     * order rule are the server's (pages/exams.rs, answers_from_form). */
    function collect(q) {
      var type = q.getAttribute('data-type');
      if (type === 'choice') {
        return { choice: all('input', q).filter(function (i) { return i.checked; }).map(function (i) { return i.value; }) };
      }
      if (type === 'text') {
        return { text: all('input[type=text]', q).map(function (i) { return i.value; }) };
      }
      if (type === 'pairs') {
        return { pairs: all('select', q).filter(function (s) { return s.value; }).map(function (s) { return [s.getAttribute('data-source'), s.value]; }) };
      }
      if (type === 'order') {
        var opts = all('select', q).map(function (s) {
          return {
            id: s.parentNode.getAttribute('data-choice'),
            k: Number(s.name.split('.o')[1]),
            r: s.value ? Number(s.value) : Infinity
          };
        });
        if (opts.every(function (o) { return o.r === Infinity; })) { return { order: [] }; }
        opts.sort(function (a, b) { return (a.r - b.r) || (a.k - b.k); });
        return { order: opts.map(function (o) { return o.id; }) };
      }
      return { extended: one('textarea', q).value };
    }

    function blank(r) {
      if (r.choice) { return r.choice.length === 0; }
      if (r.order) { return r.order.length === 0; }
      if (r.pairs) { return r.pairs.length === 0; }
      if (r.text) { return r.text.every(function (t) { return !t.trim(); }); }
      return !String(r.extended || '').trim();
    }

    /* Answers that differ from what the server has (a cleared answer is sent blank). */
    function pending() {
      var out = null;
      items.forEach(function (q) {
        var pos = q.getAttribute('data-pos'), cur = collect(q), s = JSON.stringify(cur);
        var b = base[pos];
        if (s !== b.s && !(blank(cur) && blank(b.v))) {
          out = out || {};
          out[pos] = cur;
        }
      });
      return out;
    }

    function unanswered() {
      return items.filter(function (q) { return blank(collect(q)); })
        .map(function (q) { return q.getAttribute('data-n'); });
    }

    function api(method, url, body, keepalive) {
      return fetch(url, {
        method: method,
        credentials: 'same-origin',
        keepalive: !!keepalive,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify(body)
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.ok) { return j; }
          var e = new Error((j.error && j.error.message) || ('HTTP ' + r.status));
          e.status = r.status;
          throw e;
        });
      });
    }

    function sync(ack) {
      if (ack && typeof ack.remaining_ms === 'number') { deadline = Date.now() + ack.remaining_ms; }
    }

    /* Network trouble or a server error: try again later, waiting longer each time. */
    function retryLater(fn) {
      backoff = backoff ? Math.min(backoff * 2, 30000) : 2000;
      show(text('offline'), 'error');
      clearTimeout(retryTimer);
      retryTimer = setTimeout(fn, backoff);
    }
    function transient(e) {
      return !e.status || e.status >= 500 || e.status === 408 || e.status === 429;
    }

    function save() {
      if (busy || done) { return; }
      clearTimeout(debounceTimer);
      var ans = pending();
      if (!ans) { return; }
      busy = true;
      show(text('saving'));
      api('PUT', '/api/v1/attempts/' + id + '/answers', { answers: ans }).then(function (ack) {
        busy = false;
        backoff = 0;
        Object.keys(ans).forEach(function (p) { base[p] = { v: ans[p], s: JSON.stringify(ans[p]) }; });
        sync(ack);
        show(text('saved') + ' ' + timeOfDay(new Date()), 'ok');
        if (pending()) { later(800); }
      }, function (e) {
        busy = false;
        if (e.status === 409) { location.reload(); return; }  // submitted, or time is up
        if (transient(e)) { retryLater(save); return; }
        show(text('failed') + ' ' + e.message, 'error');
      });
    }

    function later(ms) {
      clearTimeout(debounceTimer);
      debounceTimer = setTimeout(save, ms);
    }

    function submit(reason) {
      if (done) { return; }
      done = true;
      clearTimeout(debounceTimer);
      clearTimeout(retryTimer);
      var ans = pending() || {};
      backoff = 0;
      var attempt = function () {
        show(reason === 'timeout' ? text('timeout') : text('submitting'));
        api('POST', '/api/v1/attempts/' + id + '/submit', { answers: ans, reason: reason }).then(function () {
          location.reload();
        }, function (e) {
          if (e.status === 409) { location.reload(); return; }
          if (transient(e)) { retryLater(attempt); return; }
          done = false;
          show(text('failed') + ' ' + e.message, 'error');
        });
      };
      attempt();
    }

    function tick() {
      var left = deadline - Date.now();
      timer.textContent = clock(left);
      if (left <= 5 * 60 * 1000) { timer.className = 'low'; }
      if (left <= 0) { submit('timeout'); return; }
      setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
    }

    function mark(q) {
      if (blank(collect(q))) { q.classList.remove('answered'); } else { q.classList.add('answered'); }
    }

    // Ordering: up/down buttons move an option and renumber the ranks in page order.
    all('.exam-order', form).forEach(function (ol) {
      function renumber() {
        all('li', ol).forEach(function (li, i) { one('select', li).value = String(i + 1); });
        ol.dispatchEvent(new Event('change', { bubbles: true }));
      }
      all('li', ol).forEach(function (li) {
        [['up', '↑'], ['down', '↓']].forEach(function (d) {
          var b = document.createElement('button');
          b.type = 'button';
          b.className = 'exam-move';
          b.textContent = d[1];
          b.setAttribute('aria-label', text(d[0]));
          b.addEventListener('click', function () {
            if (d[0] === 'up' && li.previousElementSibling) { ol.insertBefore(li, li.previousElementSibling); }
            if (d[0] === 'down' && li.nextElementSibling) { ol.insertBefore(li.nextElementSibling, li); }
            renumber();
          });
          li.appendChild(b);
        });
      });
    });

    // What the page shows on load is what the server has saved.
    items.forEach(function (q) {
      var v = collect(q);
      base[q.getAttribute('data-pos')] = { v: v, s: JSON.stringify(v) };
    });

    form.addEventListener('change', function (e) {
      var q = e.target.closest ? e.target.closest('.exam-q') : null;
      if (q) { mark(q); }
      later(800);
    });
    form.addEventListener('input', function () { later(1500); });
    form.addEventListener('submit', function (e) { e.preventDefault(); save(); });
    one('#exam-save').addEventListener('click', function (e) {
      e.preventDefault();
      if (!pending()) { show(text('saved') + ' ' + timeOfDay(new Date()), 'ok'); }
      save();
    });
    one('#exam-submit').addEventListener('click', function (e) {
      e.preventDefault();
      var gaps = unanswered();
      var msg = text('confirm') + (gaps.length ? '\n' + text('unanswered') + ' ' + gaps.join('、') : '');
      if (window.confirm(msg)) { submit('candidate'); }
    });
    setInterval(save, 30000);
    window.addEventListener('online', save);
    // Leaving the page: send what is not saved yet (the request outlives the page).
    window.addEventListener('pagehide', function () {
      var ans = !done && pending();
      if (ans) { api('PUT', '/api/v1/attempts/' + id + '/answers', { answers: ans }, true).catch(function () {}); }
    });
    tick();
  }

  // ---------------------------------------------------------------------------------
  // The examiner's tablet page

  function scorePage(form) {
    var crits = all('.exam-criterion', form);
    var totalEl = one('#live-total');
    function total() {
      var sum = 0, zeroCritical = false, any = false;
      crits.forEach(function (fs) {
        var v = parseFloat(one('input[type=number]', fs).value);
        if (isNaN(v)) { return; }
        any = true;
        if (fs.getAttribute('data-critical') === '1' && v <= 0) { zeroCritical = true; }
        sum += v;
      });
      totalEl.textContent = !any ? '—' : (zeroCritical ? '0' : String(Math.round(sum * 100) / 100));
    }
    crits.forEach(function (fs) {
      var num = one('input[type=number]', fs);
      var radios = all('input[type=radio]', fs);
      function light() {
        radios.forEach(function (r) {
          r.parentNode.classList.toggle('on', r.checked);
        });
      }
      radios.forEach(function (r) {
        r.addEventListener('change', function () {
          num.value = r.value;
          light();
          total();
        });
      });
      num.addEventListener('input', function () {
        radios.forEach(function (r) { r.checked = num.value !== '' && Number(r.value) === Number(num.value); });
        light();
        total();
      });
    });
    total();
  }

  // ---------------------------------------------------------------------------------
  // The schedule form

  function scheduleForm(form) {
    var cert = one('#f-certificate', form), level = one('#f-level', form);
    function filter(uncheck) {
      var c = cert.value, l = level.value;
      var opt = cert.options[cert.selectedIndex];
      var levels = opt && opt.getAttribute('data-levels') ? opt.getAttribute('data-levels').split(' ') : null;
      all('option', level).forEach(function (o) { o.disabled = !!levels && levels.indexOf(o.value) < 0; });
      ['#f-forms', '#f-tasks'].forEach(function (box) {
        var shown = 0;
        all('.exam-choice', one(box, form)).forEach(function (lab) {
          var input = one('input', lab);
          var fits = !c || (lab.getAttribute('data-cert') === c &&
            (box === '#f-tasks' || lab.getAttribute('data-level') === l));
          if (!fits && uncheck) { input.checked = false; }
          var visible = fits || input.checked;
          lab.style.display = visible ? '' : 'none';
          if (visible) { shown++; }
        });
        var none = one('.exam-none', one(box, form));
        if (none) { none.style.display = shown ? 'none' : ''; }
      });
    }
    cert.addEventListener('change', function () { filter(true); });
    level.addEventListener('change', function () { filter(true); });
    filter(false);
  }

  // ---------------------------------------------------------------------------------
  // Registering students

  function registerForm() {
    var search = one('#student-search'), rows = all('#students tbody tr'), tickAll = one('#students-all');
    if (search) {
      search.addEventListener('input', function () {
        var q = search.value.trim().toLowerCase();
        rows.forEach(function (tr) {
          tr.style.display = !q || tr.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
        });
      });
    }
    if (tickAll) {
      tickAll.addEventListener('change', function () {
        rows.forEach(function (tr) {
          var cb = one('input[type=checkbox]', tr);
          if (cb && tr.style.display !== 'none') { cb.checked = tickAll.checked; }
        });
      });
    }
  }

  function start() {
    var f;
    if ((f = one('#exam-form'))) { examPage(f); }
    if ((f = one('#score-form'))) { scorePage(f); }
    if ((f = one('#schedule-form'))) { scheduleForm(f); }
    if (one('#register-form')) { registerForm(); }
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
