/* sopbot dashboard. Telegram's telegram-web-app.js is not loaded (nothing comes from outside
   the bot's server): the init data is read from the URL fragment, tgWebAppData, as Telegram
   passes it, and sent with each request in X-Telegram-Init-Data. */
(function () {
  "use strict";
  var KEY = "sopbot.tgWebAppData";

  function readInitData() {
    var hash = location.hash.replace(/^#/, "");
    var found = hash ? new URLSearchParams(hash).get("tgWebAppData") : null;
    try {
      if (found) sessionStorage.setItem(KEY, found);
      return found || sessionStorage.getItem(KEY);
    } catch (e) {
      return found;
    }
  }

  var initData = readInitData();
  var app = null;

  function tellTelegram(event) {
    try {
      if (window.TelegramWebviewProxy) window.TelegramWebviewProxy.postEvent(event, "");
      else if (window.parent !== window)
        window.parent.postMessage(JSON.stringify({ eventType: event, eventData: "" }), "*");
    } catch (e) { /* not in Telegram */ }
  }

  function meta() {
    var m = document.getElementById("dash-meta");
    return m ? m.dataset : {};
  }

  function load(url, options, push) {
    var opts = options || {};
    opts.headers = Object.assign({ "X-Dashboard-Partial": "1" }, opts.headers || {});
    if (initData) opts.headers["X-Telegram-Init-Data"] = initData;
    opts.credentials = "same-origin";
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (text) {
        app.innerHTML = text;
        var lang = meta().lang;
        if (lang) document.documentElement.lang = lang === "zh" ? "zh-Hans" : "en";
        document.body.dataset.denied = r.status === 403 ? "yes" : "no";
        document.body.dataset.signedIn = meta().signedIn || "no";
        if (push) history.pushState(null, "", r.url);
      });
    });
  }

  function viaInitData() {
    return document.body.dataset.via === "initdata";
  }

  function onClick(event) {
    var hit = event.target.closest && event.target.closest(".hit");
    if (hit) { showTip(hit); return; }
    var a = event.target.closest && event.target.closest("a[href]");
    if (!a || !viaInitData() || a.origin !== location.origin || a.target) return;
    if (a.pathname.indexOf(document.body.dataset.prefix) !== 0) return;
    event.preventDefault();
    load(a.href, {}, true);
  }

  function onSubmit(event) {
    var form = event.target;
    if (!viaInitData() || (form.method || "").toLowerCase() !== "post") return;
    event.preventDefault();
    var csrf = meta().csrf || "";
    load(form.action, { method: "POST", body: new FormData(form), headers: { "X-CSRF-Token": csrf } }, true);
  }

  function showTip(el) {
    var tip = document.getElementById("tip");
    if (!tip) return;
    var on = document.querySelector(".hit.on");
    if (on) on.classList.remove("on");
    el.classList.add("on");
    var box = el.getBoundingClientRect();
    tip.textContent = el.getAttribute("data-tip");
    tip.hidden = false;
    tip.style.left = Math.max(4, Math.min(window.innerWidth - 160, box.left - 40)) + "px";
    tip.style.top = Math.max(4, box.top - 8) + "px";
  }

  document.addEventListener("DOMContentLoaded", function () {
    app = document.getElementById("app");
    var main = document.getElementById("main");
    document.addEventListener("click", onClick);
    document.addEventListener("mouseover", function (event) {
      var hit = event.target.closest && event.target.closest(".hit");
      if (hit) showTip(hit);
    });
    document.addEventListener("submit", onSubmit);
    tellTelegram("web_app_ready");
    if (document.body.dataset.signedIn !== "yes" && initData) {
      document.body.dataset.via = "initdata";
      var wait = main.querySelector('[data-state="signing-in"]');
      var hint = main.querySelector('[data-state="sign-in"]');
      if (wait) wait.hidden = false;
      if (hint) hint.hidden = true;
      load(location.pathname + location.search, {}, false);
    }
  });
  window.addEventListener("popstate", function () {
    if (document.body.dataset.via === "initdata") load(location.pathname + location.search, {}, false);
  });
})();
