/* Hark survey widget. <script src="https://HARK/widget.js" data-survey="SURVEY_ID" async></script>
   Optional: data-visitor-id, data-visitor-signature, data-visitor-email, data-visitor-name; or
   from the page: Hark.identify({external_id, signature, email, name, locale, attributes});
   Hark.track("event-name"). The signature (HMAC-SHA256 of the id under the widget secret,
   made on the site's server) lets Hark attach the answer to that contact; without it the
   answer is anonymous. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !me.dataset.survey) return;
  var base = new URL(me.src).origin, survey = me.dataset.survey, key = "hark:" + survey;
  var H = (window.Hark = window.Hark || {}), visitor = null, cfg = null, shown = false, tracked = {};
  var signature = null;
  if (me.dataset.visitorId) { visitor = { external_id: me.dataset.visitorId, email: me.dataset.visitorEmail || null, name: me.dataset.visitorName || null }; signature = me.dataset.visitorSignature || null; }
  H.identify = function (v) { if (v && (v.external_id || v.id)) { visitor = { external_id: String(v.external_id || v.id), email: v.email || null, name: v.name || null, locale: v.locale || null, attributes: v.attributes || {} }; signature = v.signature || null; } };
  H.track = function (name) { tracked[name] = true; if (cfg && cfg.on_event === name) show(); };

  function remembered() {
    try { var r = JSON.parse(localStorage.getItem(key) || "null"); return r && Date.now() - r.at < cfg.fatigue_days * 864e5; } catch (e) { return false; }
  }
  function remember(what) { try { localStorage.setItem(key, JSON.stringify({ at: Date.now(), what: what })); } catch (e) {} }
  function send(path, body) {
    return fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { if (!r.ok) throw new Error("Hark: " + r.status); return r.status === 204 ? null : r.json(); });
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  var CSS = ":host{all:initial}.box{position:fixed;z-index:2147483000;background:#fff;color:#1b1f24;font:16px/1.45 system-ui,sans-serif;" +
    "box-shadow:0 8px 32px rgba(0,0,0,.25);border-radius:10px;padding:20px;max-width:min(560px,calc(100vw - 24px));box-sizing:border-box}" +
    ".popup{top:50%;left:50%;transform:translate(-50%,-50%)}.slide_in{bottom:12px;inset-inline-end:12px}" +
    "h2{font-size:17px;margin:0 32px 12px 0}.scale{display:grid;grid-template-columns:repeat(var(--n),minmax(44px,1fr));gap:4px}" +
    "@media (max-width:560px){.scale.wide{grid-template-columns:repeat(6,minmax(44px,1fr))}}" +
    "button{font:inherit;min-height:44px;min-width:44px;border:1px solid #8795a8;border-radius:6px;background:#fff;color:#1b1f24;cursor:pointer}" +
    "button:focus-visible,textarea:focus-visible,.box:focus-visible{outline:3px solid #e8590c;outline-offset:2px}" +
    ".ends{display:flex;justify-content:space-between;font-size:13px;color:#4a5562;margin-top:4px}" +
    ".close{position:absolute;top:8px;inset-inline-end:8px;border:0;font-size:22px;line-height:1}" +
    "textarea{width:100%;box-sizing:border-box;min-height:80px;font:inherit;padding:8px;border:1px solid #8795a8;border-radius:6px;margin:8px 0}" +
    ".send{background:#1d3557;color:#fff;border:0;padding:0 20px;font-weight:600}label{font-weight:600}";

  function show() {
    if (shown || !cfg || !cfg.show || remembered()) return;
    shown = true;
    var host = el("div", { "data-hark": survey }), root = host.attachShadow({ mode: "open" });
    root.appendChild(el("style", {}, CSS));
    var box = el("div", { "class": "box " + cfg.placement, role: "dialog", "aria-modal": "false", "aria-labelledby": "hq", lang: cfg.lang, dir: cfg.dir, tabindex: "-1" });
    var close = el("button", { "class": "close", type: "button", "aria-label": cfg.close }, "\u00d7");
    // Where focus was, to give it back when the widget closes.
    var before = document.activeElement;
    function dismiss() {
      if (!answered) remember("dismissed");
      host.remove();
      if (before && before.focus && document.contains(before)) before.focus();
    }
    close.onclick = dismiss;
    box.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.stopPropagation(); dismiss(); } });
    box.appendChild(close);
    box.appendChild(el("h2", { id: "hq" }, cfg.question));
    var n = cfg.max - cfg.min + 1, scale = el("div", { "class": "scale" + (n > 6 ? " wide" : ""), role: "group", "aria-labelledby": "hq", style: "--n:" + n });
    var answered = false, token = null;
    for (var s = cfg.min; s <= cfg.max; s++) (function (s) {
      var b = el("button", { type: "button", "aria-label": cfg.score_labels[s - cfg.min] }, String(s));
      b.onclick = function () {
        if (answered) return;
        answered = true; remember("answered");
        var nonce = Date.now().toString(36) + Math.random().toString(36).slice(2);
        send("/w/" + survey + "/responses", { score: s, nonce: nonce, visitor: visitor, visitor_signature: signature, lang: cfg.lang, page: location.href })
          .then(function (r) { token = r.token; followUp(cfg.segments[s - cfg.min]); })
          .catch(function () { answered = false; });
      };
      scale.appendChild(b);
    })(s);
    box.appendChild(scale);
    var ends = el("div", { "class": "ends" });
    ends.appendChild(el("span", {}, cfg.low)); ends.appendChild(el("span", {}, cfg.high));
    box.appendChild(ends);
    function followUp(segment) {
      scale.remove(); ends.remove();
      box.querySelector("h2").textContent = cfg.follow_up[segment];
      var ta = el("textarea", { "aria-labelledby": "hq", maxlength: "10000" }), go = el("button", { "class": "send", type: "button" }, cfg.send);
      go.onclick = function () {
        send("/w/r/" + token, { comment: ta.value }).then(function () {
          // The thanks is announced and stays until the visitor closes it.
          ta.remove(); go.remove(); box.querySelector("h2").remove();
          box.setAttribute("aria-labelledby", "thanks");
          box.appendChild(el("p", { id: "thanks", role: "status" }, cfg.thank_you[segment]));
          close.focus();
        });
      };
      box.appendChild(ta); box.appendChild(go); ta.focus();
    }
    root.appendChild(box);
    document.body.appendChild(host);
    // Take focus into the widget, unless the visitor is typing somewhere.
    var typing = before && (/^(INPUT|TEXTAREA|SELECT)$/.test(before.tagName) || before.isContentEditable);
    if (!typing) box.focus();
  }

  function start() {
    var q = "?lang=" + encodeURIComponent(navigator.language || "") + (visitor ? "&visitor=" + encodeURIComponent(visitor.external_id) + "&visitor_signature=" + encodeURIComponent(signature || "") : "");
    fetch(base + "/w/" + survey + "/config" + q).then(function (r) { return r.ok ? r.json() : null; }).then(function (c) {
      cfg = c;
      if (!cfg || !cfg.show || remembered()) return;
      if (cfg.url_contains && location.href.indexOf(cfg.url_contains) < 0) return;
      if (cfg.on_event) { if (tracked[cfg.on_event]) show(); return; }
      setTimeout(show, cfg.delay_seconds * 1000);
    }).catch(function () {});
  }
  // Let the page call Hark.identify() right after this script before asking.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else setTimeout(start, 0);
})();
