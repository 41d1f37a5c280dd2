// The wallboard keeps itself current: it fetches its figures every few seconds and changes
// only the text that changed, so the screen never flashes a reload. A link that has ended
// (revoked or expired) empties the board.
(function () {
  "use strict";
  var url = location.pathname.replace(/\/$/, "") + "/figures";
  function set(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) el.textContent = text;
  }
  function list(id, items, make) {
    var ul = document.getElementById(id);
    if (ul) ul.replaceChildren.apply(ul, items.map(make));
  }
  function item(text, who) {
    var li = document.createElement("li");
    li.textContent = text;
    if (who) {
      var span = document.createElement("span");
      span.className = "who";
      span.textContent = " — " + who;
      li.appendChild(span);
    }
    return li;
  }
  function refresh() {
    fetch(url, { cache: "no-store", credentials: "omit" })
      .then(function (r) {
        if (r.status === 404) {
          document.body.setAttribute("data-ended", "");
          list("comments", [], item);
          list("champions", [], item);
          throw new Error("ended");
        }
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(function (b) {
        set("title", b.title);
        set("today-nps", b.today.nps);
        set("today-detail", b.today.detail);
        set("month-nps", b.month.nps);
        set("month-detail", b.month.detail);
        set("answers-today", b.answers_today);
        list("comments", b.comments, function (c) { return item(c.text, c.who); });
        list("champions", b.champions, function (n) { return item(n, null); });
        set("updated", b.updated);
        document.body.removeAttribute("data-stale");
      })
      .catch(function () {
        document.body.setAttribute("data-stale", "");
      });
  }
  setInterval(refresh, Number(document.body.getAttribute("data-refresh") || 10) * 1000);
})();
