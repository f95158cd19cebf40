/* The referral search (/pro), in plain JavaScript. The page works without it: the
 * search is a plain GET form, "signaler une erreur" a plain POST form, and the
 * contacts' text can be selected by hand. This file only adds:
 * - commune suggestions while typing (names, postal codes, typos: /api/communes);
 * - the "print a sheet" and "copy the contacts" buttons;
 * - sending a report without leaving the page.
 * Text from the server is only inserted as text (textContent / option values), and
 * the French words come from the HTML (data-text-* attributes).
 */
(function () {
  "use strict";

  /** Fills the <datalist> of the commune field with what /api/communes suggests. */
  function CommuneSuggestions(input, list) {
    this.input = input;
    this.list = list;
    this.endpoint = input.getAttribute("data-endpoint");
    this.timer = null;
    this.last = "";
    input.addEventListener("input", this.schedule.bind(this));
  }

  CommuneSuggestions.DELAY_MS = 200;

  CommuneSuggestions.prototype.schedule = function () {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(this.fetch.bind(this), CommuneSuggestions.DELAY_MS);
  };

  CommuneSuggestions.prototype.fetch = function () {
    var q = this.input.value.trim();
    // A chosen suggestion ("Chauny (02300)") needs no new suggestions.
    if (q.length < 2 || q === this.last || /\(\d{5}\)$/.test(q)) { return; }
    this.last = q;
    var self = this;
    window.fetch(this.endpoint + "?limit=8&q=" + encodeURIComponent(q), {
      headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store"
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
      if (!body || !Array.isArray(body.communes) || self.input.value.trim() !== q) { return; }
      self.fill(body.communes);
    }).catch(function () { /* no suggestions: the form still works */ });
  };

  CommuneSuggestions.prototype.fill = function (matches) {
    while (this.list.firstChild) { this.list.removeChild(this.list.firstChild); }
    matches.forEach(function (m) {
      var c = m && (m.commune || m);
      if (!c || typeof c.name !== "string") { return; }
      var codes = Array.isArray(c.postal_codes) ? c.postal_codes : [];
      var option = document.createElement("option");
      // The server reads "Name (postal code)" back, even for two communes of one name.
      option.value = codes.length ? c.name + " (" + codes[0] + ")" : c.name;
      this.list.appendChild(option);
    }, this);
  };

  /** "Imprimer une fiche" and "Copier les contacts". */
  function ResultTools(root) {
    var print = document.getElementById("print-sheet");
    var copy = document.getElementById("copy-contacts");
    var text = document.getElementById("copy-text");
    var status = document.getElementById("copy-status");
    root.hidden = false;
    if (print) { print.addEventListener("click", function () { window.print(); }); }
    if (copy && text) {
      copy.addEventListener("click", function () {
        var done = function () { status.textContent = copy.getAttribute("data-text-done"); };
        var failed = function () {
          status.textContent = copy.getAttribute("data-text-failed");
          var box = document.getElementById("copy-box");
          if (box) { box.open = true; }
          text.focus();
          text.select();
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text.value).then(done, failed);
        } else {
          // Plain http on a non-local host: the older way, through a selection.
          text.select();
          try { if (document.execCommand("copy")) { done(); } else { failed(); } } catch (e) { failed(); }
        }
      });
    }
  }

  /** Sends a report with fetch and says thank you in place, instead of reloading. */
  function ReportForm(form) {
    this.form = form;
    this.status = form.querySelector(".report-status");
    form.addEventListener("submit", this.submit.bind(this));
  }

  ReportForm.prototype.submit = function (event) {
    event.preventDefault();
    var form = this.form, status = this.status;
    var kind = form.querySelector('input[name="kind"]:checked');
    if (!kind) { form.reportValidity(); return; }
    var button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    window.fetch(form.getAttribute("data-endpoint"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ service_id: form.elements.service_id.value, kind: kind.value }),
      credentials: "same-origin",   // a logged-in professional may report pro-only entries
      cache: "no-store"
    }).then(function (r) {
      if (!r.ok) { throw new Error("report refused"); }
      status.textContent = form.getAttribute("data-text-done");
      form.querySelector("fieldset").disabled = true;
      button.hidden = true;
    }).catch(function () {
      status.textContent = form.getAttribute("data-text-failed");
      button.disabled = false;
    });
  };

  function start() {
    var input = document.getElementById("commune");
    var list = document.getElementById("commune-list");
    if (input && list && input.getAttribute("data-endpoint")) { new CommuneSuggestions(input, list); }
    var tools = document.getElementById("result-tools");
    if (tools) { new ResultTools(tools); }
    var forms = document.querySelectorAll("form.report-form[data-endpoint]");
    for (var i = 0; i < forms.length; i++) { new ReportForm(forms[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
