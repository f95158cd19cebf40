/* The chat page, in plain JavaScript: no framework, no build step, nothing loaded
 * from elsewhere (the CSP allows 'self' only).
 *
 * Safety rules this file keeps, because the person may be watched:
 * - nothing is stored in the browser: no cookie, no localStorage/sessionStorage/
 *   IndexedDB. The conversation id lives in a variable and dies with the page;
 * - text from the server or the person is only ever inserted as text nodes
 *   (textContent), never as HTML, so a typed "<script>" stays inert;
 * - messages never go into the URL and the page never adds a history entry;
 * - the French words shown by the script come from the HTML (data-* attributes and
 *   <template> elements rendered by Jinja2), so they are edited in one place.
 */
(function () {
  "use strict";

  /** A random conversation id. crypto.randomUUID() needs a secure context (https or
   *  localhost); getRandomValues() works everywhere, so it is the fallback. */
  function randomId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  /** Only these link schemes may come from the server: a bad entry in the directory
   *  must never turn into a javascript: link. */
  function safeTel(value) {
    return typeof value === "string" && /^tel:\+?[0-9]+$/.test(value) ? value : null;
  }
  function safeSms(value) {
    return typeof value === "string" && /^\+?[0-9]+$/.test(value) ? "sms:" + value : null;
  }
  function safeWeb(value) {
    return typeof value === "string" && /^https?:\/\/[^\s]+$/i.test(value) ? value : null;
  }

  /* ------------------------------------------------------------------------------ */
  /** The quick exit. The link works on its own (it is a plain link with
   *  rel="noreferrer"); this class makes it faster and leave no trace on screen:
   *  blank the page first, then location.replace() so the Back button does not come
   *  back here. Shift pressed three times within 5 s does the same (as GOV.UK's
   *  "Exit this page"), for a person who cannot reach the mouse in time. */
  function ExitButton(link, overlay, status, onExit) {
    this.link = link;
    this.url = link.href;
    this.overlay = overlay;
    this.status = status;
    this.onExit = onExit;
    this.presses = [];
    this.lastKeyWasModified = false;
    this.statusTimer = null;
    link.addEventListener("click", this.handleClick.bind(this));
    // keyup, not keydown: a held Shift repeats keydown, and "Shift+A" (a capital
    // letter) must not count, which is only known once the other key is released.
    document.addEventListener("keyup", this.handleKeyup.bind(this), true);
    // If the browser ever restores this page from its back/forward cache after an
    // exit, leave again at once.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && document.documentElement.classList.contains("exiting")) {
        window.location.replace(this.url);
      }
    }.bind(this));
  }

  ExitButton.WINDOW_MS = 5000;
  ExitButton.PRESSES = 3;

  ExitButton.prototype.handleClick = function (event) {
    event.preventDefault();
    this.exit();
  };

  ExitButton.prototype.handleKeyup = function (event) {
    if (event.key === "Shift" && !this.lastKeyWasModified) {
      var now = Date.now();
      this.presses = this.presses.filter(function (t) { return now - t < ExitButton.WINDOW_MS; });
      this.presses.push(now);
      if (this.presses.length >= ExitButton.PRESSES) {
        this.exit();
      } else {
        this.announce(ExitButton.PRESSES - this.presses.length);
      }
    } else if (event.key !== "Shift") {
      // Any other key breaks the sequence: typing is not an exit request.
      this.presses = [];
    }
    this.lastKeyWasModified = event.shiftKey;
  };

  /** Tell screen-reader users that the shortcut is counting (and how many are left). */
  ExitButton.prototype.announce = function (remaining) {
    var template = this.status.getAttribute("data-text-remaining") || "";
    this.status.textContent = template.replace("{n}", String(remaining));
    window.clearTimeout(this.statusTimer);
    this.statusTimer = window.setTimeout(function () {
      this.status.textContent = "";
      this.presses = [];
    }.bind(this), ExitButton.WINDOW_MS);
  };

  ExitButton.prototype.exit = function () {
    // 1. Blank the screen now: the next page may take seconds to load.
    document.documentElement.classList.add("exiting");
    this.overlay.hidden = false;
    document.title = "\u00a0";
    // 2. Forget the conversation, on screen and on the server.
    try { this.onExit(); } catch (e) { /* leaving matters more than tidying */ }
    // 3. Replace this history entry: Back will not return here.
    window.location.replace(this.url);
  };

  /* ------------------------------------------------------------------------------ */
  /** The connection to the chat endpoint (Rasa REST channel protocol). */
  function ChatApi(endpoint, lang) {
    this.endpoint = endpoint;
    this.lang = lang || "";  // the page's language: the conversation starts in it
    this.sender = randomId();
  }

  /** A new conversation id, so an erased conversation cannot be continued. */
  ChatApi.prototype.renew = function () {
    this.sender = randomId();
  };

  ChatApi.prototype.request = function (message, keepalive) {
    return fetch(this.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(this.lang ? { sender: this.sender, message: message, lang: this.lang }
                                     : { sender: this.sender, message: message }),
      credentials: "omit",         // there are no cookies; make sure none would be sent
      cache: "no-store",
      referrerPolicy: "no-referrer",
      keepalive: Boolean(keepalive) // lets the "forget me" request outlive the page
    });
  };

  /** Resolves to the list of bot messages; rejects with an Error whose `detail` is the
   *  server's French explanation when there is one (message too long...). */
  ChatApi.prototype.send = function (message) {
    return this.request(message, false).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (!response.ok || !Array.isArray(body)) {
          var error = new Error("chat request failed");
          error.detail = body && typeof body.detail === "string" ? body.detail : null;
          throw error;
        }
        return body;
      });
    });
  };

  /** Fire and forget: used when leaving, the answer does not matter. */
  ChatApi.prototype.forget = function () {
    try { this.request("/effacer", true).catch(function () {}); } catch (e) { /* leaving anyway */ }
  };

  /* ------------------------------------------------------------------------------ */
  /** Opening hours in OpenStreetMap syntax ("Mo-Fr 09:00-17:00; PH off"), written
   *  with the French words of the #hours-words template. */
  function HoursFormatter(template) {
    this.words = {};
    if (template) {
      var nodes = template.content.querySelectorAll("[data-word]");
      for (var i = 0; i < nodes.length; i++) {
        this.words[nodes[i].getAttribute("data-word")] = nodes[i].textContent;
      }
    }
  }

  HoursFormatter.prototype.format = function (hours) {
    var w = this.words;
    if (!hours) { return ""; }
    if (w[hours]) { return w[hours]; }
    var day = "\\b(Mo|Tu|We|Th|Fr|Sa|Su|PH)\\b";
    return hours.split(";").map(function (rule) {
      return rule.trim()
        .replace(new RegExp(day + "-" + day, "g"), function (_, a, b) {
          return (w[a] || a) + " " + (w.to || "-") + " " + (w[b] || b);
        })
        .replace(new RegExp(day, "g"), function (_, a) { return w[a] || a; })
        .replace(/(\d\d:\d\d)-(\d\d:\d\d)/g, "$1 " + (w["-"] || "-") + " $2")
        .replace(/\boff\b/g, w.off || "off")
        .replace(/,(?=\S)/g, ", ");
    }).filter(Boolean).join(" ; ");
  };

  /* ------------------------------------------------------------------------------ */
  /** One contact card, cloned from the #contact-template element. `report` (optional)
   *  adds the "Signaler une erreur" control. */
  function ContactCard(template, hours, report) {
    this.template = template;
    this.hours = hours;
    this.report = report || null;
  }

  /** `options` (optional): `level`, the heading level of the name (3 by default: 4
   *  inside a plan, under its section titles); `because`, show the reason as a visible
   *  line (the plan's "À contacter d'abord" says why each contact comes first). */
  ContactCard.prototype.render = function (contact, reportable, options) {
    options = options || {};
    var card = this.template.content.firstElementChild.cloneNode(true);
    var fill = function (name, value) {
      var nodes = card.querySelectorAll('[data-field="' + name + '"]');
      for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = value == null ? "" : String(value); }
    };
    var part = function (name) { return card.querySelector('[data-part="' + name + '"]'); };
    var heading = card.querySelector(".contact-name");
    if (options.level && options.level !== 3) {
      var other = document.createElement("h" + String(options.level));
      other.className = heading.className;
      heading.parentNode.replaceChild(other, heading);
      heading = other;
    }
    heading.textContent = contact.name || "";
    fill("name", contact.name);
    fill("phone_display", contact.phone_display);
    fill("sms", contact.sms);
    fill("why", contact.why);
    fill("verified_on", this.formatDate(contact.verified_on));
    fill("source", contact.source);
    // The languages the service speaks (where a source says so), named in the page's language.
    var langs = Array.isArray(contact.languages) ? contact.languages.filter(function (c) { return typeof c === "string"; }) : [];
    if (langs.length) {
      var names;
      try {
        var display = new Intl.DisplayNames([document.documentElement.lang || "fr"], { type: "language" });
        names = langs.map(function (c) { return display.of(c) || c; });
      } catch (e) { names = langs; }
      fill("languages", names.join(", "));
    } else { part("languages").remove(); }

    var tel = card.querySelector('[data-reach="tel"]');
    var telHref = contact.phone ? safeTel(contact.tel) : null;
    if (telHref && contact.phone_display) { tel.href = telHref; } else { tel.remove(); }
    var sms = card.querySelector('[data-reach="sms"]');
    var smsHref = safeSms(contact.sms);
    if (smsHref) { sms.href = smsHref; } else { sms.remove(); }
    if (!telHref && !smsHref) { card.querySelector(".contact-reach").remove(); }

    var web = card.querySelector('[data-reach="url"]');
    var webHref = safeWeb(contact.url);
    if (webHref) { web.href = webHref; } else { part("url").remove(); }

    // Hours and "open now" only when the directory knows them: never guess.
    var hoursText = this.hours.format(contact.hours);
    fill("hours", hoursText);
    if (contact.open_now !== true) { part("open").remove(); }
    if (contact.open_now !== false) { part("closed").remove(); }
    var known = typeof contact.open_now === "boolean";
    if (!hoursText || !known) { part("separator").remove(); }
    if (!hoursText && !known) { part("hours").remove(); }

    if (!contact.why) { card.querySelector("details").remove(); }
    var because = part("because");
    if (because && !(options.because && contact.why)) { because.remove(); }
    if (reportable !== false && this.report && typeof contact.id === "string" && contact.id) {
      card.appendChild(this.report.render(contact));
    }
    return card;
  };

  /** "2021-10-19" -> "19/10/2021", the way dates are written in France. */
  ContactCard.prototype.formatDate = function (iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] : (iso || "");
  };

  /* ------------------------------------------------------------------------------ */
  /** "Signaler une erreur" under a contact card: the person only picks what is wrong
   *  (no free text, nothing about them), and the report goes to the server without
   *  cookies. Its words come from a <template id="report-template"> when the page has
   *  one (data-text-* attributes and one [data-kind] element per kind), else from the
   *  defaults below, which match directory.editing.REPORT_KINDS. */
  function ReportControl(template) {
    var d = ReportControl.DEFAULTS;
    var attr = function (name, fallback) {
      var value = template ? template.getAttribute("data-text-" + name) : null;
      return value || fallback;
    };
    this.endpoint = (template && template.getAttribute("data-endpoint")) || d.endpoint;
    this.texts = { summary: attr("summary", d.summary), legend: attr("legend", d.legend),
                   done: attr("done", d.done), failed: attr("failed", d.failed) };
    this.kinds = d.kinds;
    var nodes = template ? template.content.querySelectorAll("[data-kind]") : [];
    if (nodes.length) {
      this.kinds = Array.prototype.map.call(nodes, function (n) {
        return [n.getAttribute("data-kind"), n.textContent];
      });
    }
  }

  ReportControl.DEFAULTS = {
    endpoint: "/api/signalements",
    summary: "Signaler une erreur",
    legend: "Qu'est-ce qui ne va pas ?",
    done: "Merci, c'est noté : l'équipe va vérifier cette information.",
    failed: "Le signalement n'a pas pu partir. Vous pouvez réessayer plus tard.",
    kinds: [["telephone", "Le numéro ne marche pas"], ["horaires", "Les horaires sont faux"],
            ["adresse", "L'adresse est fausse"], ["ferme", "Le service n'existe plus"],
            ["autre", "Autre erreur"]]
  };

  ReportControl.prototype.render = function (contact) {
    var details = document.createElement("details");
    details.className = "contact-why contact-report";
    var summary = document.createElement("summary");
    summary.textContent = this.texts.summary;
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = " : " + (contact.name || "");
    summary.appendChild(hidden);
    details.appendChild(summary);
    // Not a .choices group of the conversation: removeChoices() must leave it alone.
    var group = document.createElement("div");
    group.className = "report-choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", this.texts.legend);
    // chat.css has no rule for this group: lay it out like the answer buttons (CSSOM
    // properties are allowed by the CSP, unlike style attributes).
    group.style.display = "flex";
    group.style.flexWrap = "wrap";
    group.style.gap = "0.5rem";
    group.style.marginTop = "0.5rem";
    var status = document.createElement("p");
    status.className = "report-status";
    status.setAttribute("role", "status");
    this.kinds.forEach(function (kind) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button-choice";
      button.setAttribute("data-kind", kind[0]);
      button.textContent = kind[1];
      button.addEventListener("click", this.send.bind(this, contact.id, kind[0], group, status));
      group.appendChild(button);
    }, this);
    details.appendChild(group);
    details.appendChild(status);
    return details;
  };

  ReportControl.prototype.send = function (serviceId, kind, group, status) {
    var buttons = group.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
    var texts = this.texts;
    window.fetch(this.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ service_id: serviceId, kind: kind }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    }).then(function (response) {
      if (!response.ok) { throw new Error("report refused"); }
      group.remove();
      status.textContent = texts.done;
    }).catch(function () {
      for (var j = 0; j < buttons.length; j++) { buttons[j].disabled = false; }
      status.textContent = texts.failed;
    });
  };

  /* ------------------------------------------------------------------------------ */
  /** An answer that is a plan (custom.groups, see the plan contract): "À contacter
   *  d'abord" cards, then each need group as a <details> disclosure (open: these are the
   *  few contacts shown), then "Voir tous les contacts" (closed), then "Ce que vous
   *  pouvez faire" (the steps), then "En cas de danger" once, under the plan. The
   *  skeleton and its French words come from <template id="plan-template">. */
  function PlanView(template, cards) {
    this.template = template;
    this.cards = cards;
  }

  /** The groups of `custom` in display order, each with its contacts in the rules'
   *  order: [{code, title, contacts}]. A contact whose group is missing or unknown goes
   *  to "more" rather than disappearing; empty groups are left out. */
  PlanView.groups = function (custom, moreTitle) {
    var declared = Array.isArray(custom.groups) ? custom.groups : [];
    var contacts = Array.isArray(custom.contacts) ? custom.contacts : [];
    var groups = [], byCode = {};
    declared.forEach(function (g) {
      if (!g || typeof g !== "object" || typeof g.code !== "string" || byCode[g.code]) { return; }
      byCode[g.code] = { code: g.code, title: typeof g.title === "string" ? g.title : "", contacts: [] };
      groups.push(byCode[g.code]);
    });
    contacts.forEach(function (c) {
      if (!c || typeof c !== "object") { return; }
      var code = typeof c.group === "string" && byCode[c.group] ? c.group : "more";
      if (!byCode[code]) {
        byCode[code] = { code: code, title: moreTitle, contacts: [] };
        groups.push(byCode[code]);
      }
      byCode[code].contacts.push(c);
    });
    // "first" always leads and "more" always closes, whatever order the list came in.
    var rank = function (g) { return g.code === "first" ? 0 : (g.code === "more" ? 2 : 1); };
    return groups.filter(function (g) { return g.contacts.length; })
      .map(function (g, i) { return [rank(g), i, g]; })
      .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; })
      .map(function (x) { return x[2]; });
  };

  /** The steps as [{text, contact}]: a step is a string, or {text, service, contact?}
   *  where `contact` is the service through which one does it. */
  PlanView.steps = function (custom) {
    // step_details (the rules' steps, with the service they go through) when the engine sends them
    var steps = Array.isArray(custom.step_details) ? custom.step_details : (Array.isArray(custom.steps) ? custom.steps : []);
    return steps.map(function (s) {
      if (typeof s === "string") { return { text: s, contact: null }; }
      if (!s || typeof s.text !== "string") { return null; }
      return { text: s.text, contact: s.contact && typeof s.contact === "object" ? s.contact : null };
    }).filter(function (s) { return s && s.text; });
  };

  /** How to reach a step's service, for paper: "name : phone", or "" if no way is known. */
  PlanView.reachText = function (c) {
    if (!c || !c.name) { return ""; }
    var how = c.phone && c.phone_display ? c.phone_display : (c.sms ? "SMS " + c.sms : (safeWeb(c.url) || ""));
    return how ? c.name + " : " + how : "";
  };

  /** The way in of a step's service, as a link: "(name : Appeler le …)"; null when the
   *  contact has no safe way in. Words from the plan template's data-text-* attributes. */
  PlanView.prototype.reach = function (c, root) {
    if (!c || !c.name) { return null; }
    var words = function (name) { return root.getAttribute("data-text-" + name) || ""; };
    var a = document.createElement("a");
    var tel = c.phone && c.phone_display ? safeTel(c.tel) : null;
    var sms = safeSms(c.sms), web = safeWeb(c.url);
    if (tel) { a.href = tel; a.textContent = words("call") + " " + c.phone_display; }
    else if (sms) { a.href = sms; a.textContent = words("sms") + " " + c.sms; }
    else if (web) { a.href = web; a.rel = "noreferrer"; a.textContent = words("web"); }
    else { return null; }
    var span = document.createElement("span");
    span.className = "step-reach";
    span.appendChild(document.createTextNode("(" + c.name + " : "));
    span.appendChild(a);
    span.appendChild(document.createTextNode(")"));
    return span;
  };

  PlanView.prototype.moreTitle = function () {
    return this.template.content.firstElementChild.getAttribute("data-text-more") || "";
  };

  PlanView.prototype.render = function (custom) {
    var root = this.template.content.firstElementChild.cloneNode(true);
    var part = function (name) { return root.querySelector('[data-part="' + name + '"]'); };
    var cards = this.cards;
    var fill = function (list, contacts, because, reportable) {
      contacts.forEach(function (c) {
        list.appendChild(cards.render(c, reportable, { level: 4, because: because }));
      });
    };
    var disclosure = function (group, open) {
      var details = document.createElement("details");
      details.className = "plan-group" + (group.code === "more" ? " plan-more" : "");
      details.setAttribute("data-group", group.code);
      details.open = open;
      var summary = document.createElement("summary");
      summary.textContent = group.title;
      details.appendChild(summary);
      var list = document.createElement("div");
      list.className = "contacts";
      fill(list, group.contacts, false, true);
      details.appendChild(list);
      return details;
    };
    var groups = PlanView.groups(custom, this.moreTitle());
    var first = groups.filter(function (g) { return g.code === "first"; })[0];
    var needs = groups.filter(function (g) { return g.code !== "first" && g.code !== "more"; });
    var more = groups.filter(function (g) { return g.code === "more"; })[0];

    if (first) {
      if (first.title) { part("first").querySelector('[data-field="first"]').textContent = first.title; }
      part("first").setAttribute("data-group", "first");
      fill(part("first").querySelector(".contacts"), first.contacts, true, true);
    } else { part("first").remove(); }
    if (needs.length) {
      needs.forEach(function (g) { part("needs").appendChild(disclosure(g, true)); });
    } else { part("needs").remove(); }
    if (more) { part("more").appendChild(disclosure(more, false)); } else { part("more").remove(); }

    var steps = PlanView.steps(custom);
    if (steps.length) {
      var ul = part("steps").querySelector("ul");
      steps.forEach(function (step) {
        var li = document.createElement("li");
        li.textContent = step.text;
        var reach = this.reach(step.contact, root);
        if (reach) { li.appendChild(document.createTextNode(" ")); li.appendChild(reach); }
        ul.appendChild(li);
      }, this);
    } else { part("steps").remove(); }

    // No "signaler une erreur" under the emergency numbers, as in the emergency block.
    var danger = (Array.isArray(custom.if_danger) ? custom.if_danger : []).filter(function (c) {
      return c && typeof c === "object";
    });
    if (danger.length) { fill(part("danger").querySelector(".contacts"), danger, false, false); }
    else { part("danger").remove(); }
    return root;
  };

  /* ------------------------------------------------------------------------------ */
  /** The role="log" region: appends messages, never rewrites earlier ones (screen
   *  readers announce additions only). */
  function ChatLog(element, cards, texts, plan) {
    this.element = element;
    this.cards = cards;
    this.texts = texts;
    this.plan = plan || null;
  }

  ChatLog.prototype.bubble = function (kind, who) {
    var div = document.createElement("div");
    div.className = "message message-" + kind;
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = who + " ";
    div.appendChild(label);
    return div;
  };

  ChatLog.prototype.paragraph = function (parent, text) {
    var p = document.createElement("p");
    p.className = "message-text";
    p.textContent = text;
    parent.appendChild(p);
    return p;
  };

  ChatLog.prototype.addUser = function (text) {
    var div = this.bubble("user", this.texts.you);
    this.paragraph(div, text);
    this.element.appendChild(div);
    return div;
  };

  ChatLog.prototype.addError = function (text) {
    var div = this.bubble("bot message-error", this.texts.bot);
    this.paragraph(div, text);
    this.element.appendChild(div);
    return div;
  };

  /** A bot message: its text, its contact cards, its answer buttons. `onChoice` is
   *  called with (payload, title) when one of the buttons is used. */
  ChatLog.prototype.addBot = function (message, onChoice) {
    var custom = message.custom && typeof message.custom === "object" ? message.custom : {};
    var contacts = Array.isArray(custom.contacts) ? custom.contacts : [];
    var kind = "bot";
    // A plan: the final answer. An emergency message never is one (it stays as it is).
    var isPlan = custom.emergency !== true && Array.isArray(custom.groups) && custom.groups.length > 0 &&
      this.plan !== null;
    if (custom.emergency === true) { kind += " message-emergency"; }
    else if (contacts.length || isPlan) { kind += " message-contacts"; }
    if (isPlan) { kind += " message-plan"; }
    var div = this.bubble(kind, this.texts.bot);
    // The language of the reply (custom.lang): read aloud and laid out in it (Arabic right to left).
    if (typeof custom.lang === "string" && /^[a-z]{2}(_[A-Za-z]+)?$/.test(custom.lang)) {
      div.setAttribute("lang", custom.lang.split("_")[0]);
      div.setAttribute("dir", custom.lang === "ar" ? "rtl" : "auto");
    }
    // What a question asks (commune, danger...): lets styles and tests tell them apart.
    if (typeof custom.asks === "string") { div.setAttribute("data-asks", custom.asks); }
    var text = typeof message.text === "string" ? message.text : "";
    // With cards, the text's numbered list repeats them (it is there for plain-text
    // clients): keep its first line, the introduction.
    if (contacts.length || isPlan) { text = text.split("\n")[0]; }
    if (text) { this.paragraph(div, text); }

    if (isPlan) {
      div.appendChild(this.plan.render(custom));
    } else if (contacts.length) {
      var list = document.createElement("div");
      list.className = "contacts";
      contacts.forEach(function (c) {
        // No "signaler une erreur" in the emergency block: nothing there but the numbers.
        if (c && typeof c === "object") { list.appendChild(this.cards.render(c, custom.emergency !== true)); }
      }, this);
      div.appendChild(list);
    }

    var buttons = Array.isArray(message.buttons) ? message.buttons : [];
    if (buttons.length) {
      var group = document.createElement("div");
      group.className = "choices";
      group.setAttribute("role", "group");
      if (text) { group.setAttribute("aria-label", text); }
      buttons.forEach(function (b) {
        if (!b || typeof b.title !== "string" || typeof b.payload !== "string") { return; }
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button button-choice";
        button.textContent = b.title;
        button.addEventListener("click", function () { onChoice(b.payload, b.title); });
        group.appendChild(button);
      });
      div.appendChild(group);
    }
    this.element.appendChild(div);
    return div;
  };

  /** Answered questions lose their buttons: only the latest question can be answered,
   *  and Tab does not wander through old choices. */
  ChatLog.prototype.removeChoices = function () {
    var groups = this.element.querySelectorAll(".choices");
    for (var i = 0; i < groups.length; i++) { groups[i].remove(); }
  };

  ChatLog.prototype.firstChoice = function (since) {
    return since ? since.querySelector(".choices button") : null;
  };

  ChatLog.prototype.clear = function () {
    while (this.element.firstChild) { this.element.removeChild(this.element.firstChild); }
  };

  /* ------------------------------------------------------------------------------ */
  /** The contacts on paper: a list that only the print stylesheet shows, under a
   *  neutral heading. It starts with the emergency numbers (server-rendered). */
  function PrintSummary(list, button, hours, plan, words) {
    this.list = list;
    this.button = button;
    this.hours = hours;
    this.plan = plan || null;
    this.words = {};
    var nodes = words ? words.content.querySelectorAll("[data-word]") : [];
    for (var i = 0; i < nodes.length; i++) {
      this.words[nodes[i].getAttribute("data-word")] = nodes[i].textContent;
    }
    this.initial = Array.prototype.slice.call(list.children);
    button.addEventListener("click", function () { window.print(); });
  }

  /** One contact as one printed line: "name : phone SMS n (hours)". */
  PrintSummary.prototype.line = function (c) {
    var parts = [];
    if (c.phone && c.phone_display) { parts.push(c.phone_display); }
    if (c.sms) { parts.push("SMS " + c.sms); }
    var hours = this.hours.format(c.hours);
    if (hours) { parts.push("(" + hours + ")"); }
    var li = document.createElement("li");
    li.setAttribute("data-id", String(c.id || c.name));
    li.textContent = c.name + (parts.length ? " : " + parts.join(" ") : "");
    return li;
  };

  /** The latest plan on paper, with the same structure as on screen and every group
   *  written out (paper has no disclosure): it replaces the flat list. "En cas de
   *  danger" closes it, with the server's emergency numbers the plan does not hold. */
  PrintSummary.prototype.addPlan = function (custom) {
    if (!this.plan) { return; }
    var plan = this.plan, self = this, seen = {};
    while (plan.firstChild) { plan.removeChild(plan.firstChild); }
    var section = function (title, items) {
      if (!items.length) { return; }
      var h = document.createElement("h3");
      h.textContent = title;
      var ul = document.createElement("ul");
      items.forEach(function (li) { ul.appendChild(li); });
      plan.appendChild(h);
      plan.appendChild(ul);
    };
    var lines = function (contacts) {
      return contacts.filter(function (c) { return c && typeof c === "object" && c.name; }).map(function (c) {
        seen[String(c.id || c.name)] = true;
        return self.line(c);
      });
    };
    PlanView.groups(custom, this.words.more || "").forEach(function (g) {
      section(g.code === "more" ? (self.words.more || g.title) : g.title, lines(g.contacts));
    });
    section(this.words.steps || "", PlanView.steps(custom).map(function (step) {
      var li = document.createElement("li");
      var reach = PlanView.reachText(step.contact);
      li.textContent = step.text + (reach ? " (" + reach + ")" : "");
      return li;
    }));
    var danger = lines(Array.isArray(custom.if_danger) ? custom.if_danger : []);
    this.initial.forEach(function (li) {
      if (!seen[li.getAttribute("data-id")]) { danger.push(li.cloneNode(true)); }
    });
    section(this.words.danger || "", danger);
    plan.hidden = false;
    this.list.hidden = true;
    this.button.hidden = false;
  };

  PrintSummary.prototype.add = function (contacts) {
    contacts.forEach(function (c) {
      if (!c || typeof c !== "object" || !c.name) { return; }
      var id = String(c.id || c.name);
      var existing = this.list.querySelectorAll("li");
      for (var i = 0; i < existing.length; i++) {
        if (existing[i].getAttribute("data-id") === id) { return; }
      }
      this.list.appendChild(this.line(c));
    }, this);
    this.button.hidden = false;
  };

  PrintSummary.prototype.reset = function () {
    if (this.plan) {
      while (this.plan.firstChild) { this.plan.removeChild(this.plan.firstChild); }
      this.plan.hidden = true;
    }
    this.list.hidden = false;
    while (this.list.firstChild) { this.list.removeChild(this.list.firstChild); }
    this.initial.forEach(function (li) { this.list.appendChild(li); }, this);
    this.button.hidden = true;
  };

  /* ------------------------------------------------------------------------------ */
  /** The message form: Enter or the button sends; the text goes in a JSON body, never
   *  in the URL (submit is always prevented). */
  function ChatForm(form, input, onSend) {
    this.form = form;
    this.input = input;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) { input.focus(); return; }
      if (onSend(text, text, false) !== false) { input.value = ""; }
    });
  }

  ChatForm.prototype.focus = function () {
    // preventScroll: the new messages were just scrolled into view; keep them there.
    this.input.focus({ preventScroll: true });
  };

  /* ------------------------------------------------------------------------------ */
  /** Ties the pieces together: one request at a time, focus kept where a keyboard or
   *  screen-reader user expects it. */
  function Chat(root) {
    var data = function (name) { return root.getAttribute("data-text-" + name) || ""; };
    this.texts = { you: data("you"), bot: data("bot"), error: data("error") };
    this.api = new ChatApi(root.getAttribute("data-endpoint"), root.getAttribute("data-lang"));
    this.hours = new HoursFormatter(document.getElementById("hours-words"));
    this.cards = new ContactCard(document.getElementById("contact-template"), this.hours,
                                 new ReportControl(document.getElementById("report-template")));
    var planTemplate = document.getElementById("plan-template");
    this.log = new ChatLog(document.getElementById("log"), this.cards, this.texts,
                           planTemplate ? new PlanView(planTemplate, this.cards) : null);
    this.wait = document.getElementById("wait");
    this.summary = new PrintSummary(document.getElementById("print-list"),
                                     document.getElementById("print"), this.hours,
                                     document.getElementById("print-plan"),
                                     document.getElementById("plan-print-words"));
    this.form = new ChatForm(document.getElementById("chat-form"),
                             document.getElementById("message"), this.send.bind(this));
    this.busy = false;
    var erase = document.getElementById("erase");
    erase.addEventListener("click", this.erase.bind(this, erase.getAttribute("data-command")));
    root.hidden = false;
  }

  /** Sends `message`, shows `shown` as the person's words (a button's title rather
   *  than its payload). Returns false when a request is already running. */
  Chat.prototype.send = function (message, shown, fromChoice) {
    if (this.busy) { return false; }
    this.busy = true;
    this.log.removeChoices();
    if (fromChoice) { this.form.focus(); }  // the focused button is gone
    this.log.addUser(shown);
    this.wait.hidden = false;
    var self = this;
    this.api.send(message).then(function (replies) {
      self.render(replies, fromChoice);
    }, function (error) {
      var div = self.log.addError(error.detail || self.texts.error);
      div.scrollIntoView({ block: "nearest" });
    }).then(function () {
      self.wait.hidden = true;
      self.busy = false;
    });
    return true;
  };

  Chat.prototype.render = function (replies, fromChoice) {
    var first = null, lastWithChoices = null, self = this;
    replies.forEach(function (message) {
      if (!message || typeof message !== "object") { return; }
      var div = self.log.addBot(message, function (payload, title) {
        self.send(payload, title, true);
      });
      first = first || div;
      if (self.log.firstChoice(div)) { lastWithChoices = div; }
      var custom = message.custom || {};
      if (Array.isArray(custom.contacts) && custom.contacts.length) { self.summary.add(custom.contacts); }
      if (div.classList.contains("message-plan")) { self.summary.addPlan(custom); }
    });
    // Show the start of the answer (a list of contacts can be long).
    if (first) { first.scrollIntoView({ block: "start" }); }
    // Someone answering with buttons continues with buttons; someone typing keeps
    // the cursor in the text field.
    if (fromChoice && lastWithChoices) {
      this.log.firstChoice(lastWithChoices).focus({ preventScroll: true });
    } else if (fromChoice) {
      this.form.focus();
    }
  };

  /** "Tout effacer": clear the screen at once, then ask the server to forget, and
   *  start a new conversation id. */
  Chat.prototype.erase = function (command) {
    if (this.busy) { return; }
    var self = this;
    this.busy = true;
    this.log.clear();
    this.summary.reset();
    this.api.send(command).then(function (replies) {
      self.render(replies, false);
    }, function () { /* the screen is clear; the server forgets after its timeout */ })
      .then(function () {
        self.api.renew();
        self.busy = false;
        self.form.focus();
      });
  };

  /** Called by the quick exit: nothing of the conversation survives on screen or on
   *  the server. */
  Chat.prototype.wipe = function () {
    this.log.clear();
    this.summary.reset();
    this.api.forget();
  };

  /* ------------------------------------------------------------------------------ */
  function start() {
    var chat = null;
    var root = document.getElementById("chat");
    // The exit first: it must work even if the chat fails to start.
    var link = document.getElementById("exit-link");
    if (link) {
      new ExitButton(link, document.getElementById("exit-overlay"),
                     document.getElementById("exit-status"),
                     function () { if (chat) { chat.wipe(); } });
    }
    if (root) { chat = new Chat(root); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
